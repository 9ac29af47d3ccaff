import { once } from 'node:events';
import * as zlib from 'node:zlib';

/** How a run of bytes goes into one gzip member. */
interface Member {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
  destroy(): void;
}

type WriteTo = (chunk: Buffer) => Promise<void>;

/** A gzip header with no name and no time, as zlib writes it on Unix. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);
const MAX_STORED_BLOCK = 0xffff;

/** deflateMember deflates its bytes with zlib at a level (1, fast, for layers and metadata). */
function deflateMember(out: WriteTo, level: number): Member {
  const gzip = zlib.createGzip({ level });
  const done = (async () => {
    for await (const chunk of gzip) await out(chunk as Buffer);
  })();
  // The member's output is awaited in end(); a failure surfaces there.
  done.catch(() => {});
  return {
    write: async (chunk) => {
      // events.once removes both of its listeners whichever fires, so none pile up per write.
      if (!gzip.write(chunk)) await once(gzip, 'drain');
    },
    end: async () => {
      gzip.end();
      await done;
    },
    destroy: () => gzip.destroy(),
  };
}

/**
 * storedMember writes its bytes as deflate stored blocks, computing only the CRC: bytes that
 * are compressed already cost a memory copy, not a deflate pass. Node before 20.15 has no
 * zlib.crc32, and there zlib's level 0 does the same more slowly.
 */
function storedMember(out: WriteTo): Member {
  const crc32 = (zlib as { crc32?: (data: Buffer, value?: number) => number }).crc32;
  if (!crc32) return deflateMember(out, 0);
  let crc = 0;
  let size = 0;
  let started = false;
  return {
    write: async (chunk) => {
      if (!started) await out(GZIP_HEADER);
      started = true;
      crc = crc32(chunk, crc);
      size += chunk.length;
      // One write per chunk: a write per block would cost a system call per 64 KiB.
      const parts: Buffer[] = [];
      for (let offset = 0; offset < chunk.length; offset += MAX_STORED_BLOCK) {
        const block = chunk.subarray(offset, offset + MAX_STORED_BLOCK);
        const header = Buffer.alloc(5);
        header.writeUInt16LE(block.length, 1);
        header.writeUInt16LE(~block.length & 0xffff, 3);
        parts.push(header, block);
      }
      await out(Buffer.concat(parts));
    },
    end: async () => {
      if (!started) await out(GZIP_HEADER);
      const trailer = Buffer.alloc(13);
      trailer.set([0x01, 0x00, 0x00, 0xff, 0xff]);
      trailer.writeUInt32LE(crc >>> 0, 5);
      trailer.writeUInt32LE(size % 2 ** 32, 9);
      await out(trailer);
    },
    destroy: () => {},
  };
}

/**
 * GzipMembersSink writes one gzip member per run of bytes of one kind: metadata and plain
 * layers deflated, already-compressed layers in stored blocks, so that writing a .tar.gz never
 * pays deflate on bytes that will not shrink. A multi-member gzip is one valid .gz file for
 * gunzip, docker load and regtool.
 */
export class GzipMembersSink {
  private member?: { member: Member; compressible: boolean };

  constructor(private readonly out: WriteTo) {}

  async write(chunk: Buffer, compressible: boolean): Promise<void> {
    if (this.member && this.member.compressible !== compressible) await this.endMember();
    this.member ??= {
      member: compressible ? deflateMember(this.out, 1) : storedMember(this.out),
      compressible,
    };
    await this.member.member.write(chunk);
  }

  async endMember(): Promise<void> {
    const current = this.member;
    this.member = undefined;
    await current?.member.end();
  }

  destroy(): void {
    this.member?.member.destroy();
  }
}
