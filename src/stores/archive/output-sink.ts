import { once } from 'node:events';
import type { Writable } from 'node:stream';

import { execa } from 'execa';

import { GzipMembersSink } from './gzip-members.js';

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

/** GzipSink writes the tar as several gzip members (see GzipMembersSink). */
class GzipSink implements OutputSink {
  private readonly members: GzipMembersSink;

  constructor(
    private readonly output: Writable,
    private readonly owned: boolean,
  ) {
    this.members = new GzipMembersSink((chunk) => writeTo(output, chunk));
  }

  write(chunk: Buffer, compressible: boolean): Promise<void> {
    return this.members.write(chunk, compressible);
  }

  async finish(): Promise<void> {
    await this.members.endMember();
    await endStream(this.output, this.owned);
  }

  destroy(): void {
    this.members.destroy();
    if (this.owned) this.output.destroy();
  }
}

/**
 * ZstdSink pipes the tar through the system zstd program. Its output is streamed, never
 * buffered (execa would otherwise keep every compressed byte, and print them in its error).
 */
class ZstdSink implements OutputSink {
  private readonly process = execa('zstd', ['-q', '-c', '-3'], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'ignore',
    buffer: false,
  });
  private readonly copied: Promise<void>;
  private readonly exited: Promise<unknown>;

  constructor(
    private readonly output: Writable,
    private readonly owned: boolean,
  ) {
    // A killed or failed zstd rejects these; finish() awaits them, and after destroy() nobody
    // waits, so neither may become an unhandled rejection.
    this.exited = Promise.resolve(this.process);
    this.exited.catch(() => {});
    this.process.stdin.on('error', () => {});
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
    await this.exited;
    await this.copied;
    await endStream(this.output, this.owned);
  }

  /** destroy kills zstd at once and closes its pipes, so nothing keeps the process alive. */
  destroy(): void {
    this.process.kill('SIGKILL');
    this.process.stdin.destroy();
    this.process.stdout.destroy();
    if (this.owned) this.output.destroy();
  }
}

/** createOutputSink wraps the output in the chosen compression; `owned` outputs are ended. */
export function createOutputSink(
  output: Writable,
  compression: OutputCompression,
  owned: boolean,
): OutputSink {
  if (compression === 'gzip') return new GzipSink(output, owned);
  if (compression === 'zstd') return new ZstdSink(output, owned);
  return new PlainSink(output, owned);
}
