import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';

import { execa } from 'execa';

/** How an archive regtool writes is compressed as a whole. */
export type OutputCompression = 'none' | 'gzip' | 'zstd';

/**
 * OutputSink takes the tar's bytes in order. `compressible` says whether the bytes are worth
 * compressing: layers that are compressed already are not, and a gzip sink stores them.
 */
export interface OutputSink {
  write(chunk: Buffer, compressible: boolean): Promise<void>;
  /** finish flushes everything and ends the output. */
  finish(): Promise<void>;
  destroy(): void;
}

async function writeTo(stream: Writable, chunk: Buffer): Promise<void> {
  if (stream.destroyed) throw new Error('the output is closed');
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/** endStream ends a file; a stream the caller owns (stdout) is only flushed, not ended. */
async function endStream(stream: Writable, owned = true): Promise<void> {
  if (!owned) {
    await new Promise<void>((resolve, reject) =>
      stream.write(Buffer.alloc(0), (error) => (error ? reject(error) : resolve())),
    );
    return;
  }
  const finished = once(stream, 'finish');
  stream.end();
  await finished;
}

/** PlainSink writes the tar as it is. */
class PlainSink implements OutputSink {
  constructor(
    private readonly output: Writable,
    private readonly owned: boolean,
  ) {}

  write(chunk: Buffer): Promise<void> {
    return writeTo(this.output, chunk);
  }

  finish(): Promise<void> {
    return endStream(this.output, this.owned);
  }

  destroy(): void {
    if (this.owned) this.output.destroy();
  }
}

/**
 * GzipMembersSink writes one gzip member per run of bytes of one kind: metadata and plain
 * layers deflated, already-compressed layers in stored (level 0) blocks, so that writing a
 * .tar.gz never pays full deflate on bytes that will not shrink. A multi-member gzip is one
 * valid .gz file for gunzip, docker load and regtool.
 */
class GzipMembersSink implements OutputSink {
  private member?: { gzip: Gzip; compressible: boolean; done: Promise<void> };

  constructor(
    private readonly output: Writable,
    private readonly owned: boolean,
  ) {}

  async write(chunk: Buffer, compressible: boolean): Promise<void> {
    if (this.member && this.member.compressible !== compressible) await this.endMember();
    this.member ??= this.startMember(compressible);
    await writeTo(this.member.gzip, chunk);
  }

  async finish(): Promise<void> {
    await this.endMember();
    await endStream(this.output, this.owned);
  }

  destroy(): void {
    this.member?.gzip.destroy();
    if (this.owned) this.output.destroy();
  }

  private startMember(compressible: boolean) {
    const gzip = createGzip({ level: compressible ? 1 : 0 });
    const done = (async () => {
      for await (const chunk of gzip) await writeTo(this.output, chunk as Buffer);
    })();
    // The member's output is awaited in endMember; a failure surfaces there.
    done.catch(() => {});
    return { gzip, compressible, done };
  }

  private async endMember(): Promise<void> {
    const member = this.member;
    if (!member) return;
    this.member = undefined;
    member.gzip.end();
    await member.done;
  }
}

/** ZstdSink pipes the tar through the system zstd program. */
class ZstdSink implements OutputSink {
  private readonly process = execa('zstd', ['-q', '-c', '-3'], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'ignore',
  });
  private readonly copied: Promise<void>;

  constructor(
    private readonly output: Writable,
    private readonly owned: boolean,
  ) {
    this.copied = (async () => {
      for await (const chunk of this.process.stdout) await writeTo(this.output, chunk as Buffer);
    })();
    this.copied.catch(() => {});
  }

  write(chunk: Buffer): Promise<void> {
    return writeTo(this.process.stdin, chunk);
  }

  async finish(): Promise<void> {
    this.process.stdin.end();
    await this.process;
    await this.copied;
    await endStream(this.output, this.owned);
  }

  destroy(): void {
    this.process.kill();
    if (this.owned) this.output.destroy();
  }
}

/** createOutputSink wraps the output in the chosen compression; `owned` outputs are ended. */
export function createOutputSink(
  output: Writable,
  compression: OutputCompression,
  owned: boolean,
): OutputSink {
  if (compression === 'gzip') return new GzipMembersSink(output, owned);
  if (compression === 'zstd') return new ZstdSink(output, owned);
  return new PlainSink(output, owned);
}
