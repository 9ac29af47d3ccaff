import { createGunzip } from 'node:zlib';
import { PassThrough, Readable, Transform, type Duplex, type TransformCallback } from 'node:stream';

import { execa } from 'execa';

import { IntegrityError } from '../../core/errors.js';

/** How a whole archive (or one layer) is compressed, told by its first bytes. */
export type StreamCompression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

/** How many leading bytes {@link detectStreamCompression} needs. */
export const MAGIC_LENGTH = 6;

const magics: Array<[StreamCompression, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

/** detectStreamCompression tells the compression of a stream from its magic bytes. */
export function detectStreamCompression(head: Uint8Array): StreamCompression {
  for (const [kind, magic] of magics) {
    if (head.length >= magic.length && magic.every((byte, i) => head[i] === byte)) return kind;
  }
  return 'none';
}

/** The system programs that decompress what Node's zlib cannot. */
const programs: Record<'zstd' | 'xz' | 'bzip2', string[]> = {
  zstd: ['zstd', '-d', '-c', '-q'],
  xz: ['xz', '-d', '-c', '-q'],
  // Not -q: bzip2 then says nothing of an input that ends early.
  bzip2: ['bzip2', '-d', '-c'],
};

/**
 * createDecompressor returns a stream that turns compressed bytes into plain ones. gzip
 * (several members too, as pigz writes) is Node's own; zstd, xz and bzip2 run the system
 * program of that name.
 */
export function createDecompressor(kind: StreamCompression): Duplex {
  if (kind === 'none') return new PassThrough();
  if (kind === 'gzip') return createGunzip({ chunkSize: 1 << 20 });
  const [file, ...args] = programs[kind];
  // stderr is kept so that a failure says whether the input ended early (see isTruncation);
  // stdout only streams on: buffered, it would be capped at execa's maxBuffer (100 MB).
  const options = { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' } as const;
  return execa(file!, args, { ...options, buffer: { stdout: false } }).duplex();
}

/**
 * isTruncation tells a decompressor's failure for an input that ends too early (zlib's
 * Z_BUF_ERROR, "premature end" from zstd and xz, "ends unexpectedly" from bzip2) from one for
 * damaged data.
 */
export function isTruncation(error: Error): boolean {
  if ((error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') return true;
  return /premature end|unexpected end|ends unexpectedly|truncated/i.test(error.message);
}

/**
 * decompressionFailure is the error for an archive that does not decompress: truncated when
 * its compressed data ends early, corrupt otherwise.
 */
export function decompressionFailure(
  error: Error,
  compression: StreamCompression,
  what: string,
): IntegrityError {
  if (error instanceof IntegrityError) return error;
  if (isTruncation(error)) {
    return new IntegrityError(
      'ARCHIVE_TRUNCATED',
      `${what} ends before its ${compression} data does`,
      { cause: error, hint: 'the file is incomplete; copy or download it again' },
    );
  }
  return new IntegrityError('ARCHIVE_CORRUPT', `${what} does not decompress (${compression})`, {
    cause: error,
    hint: 'the file is damaged; copy or download it again',
  });
}

/**
 * SizeLimit fails a decompressed stream that grows past a bound, so that a small file that
 * inflates without end (a decompression bomb) stops instead of filling memory or disk.
 */
export class SizeLimit extends Transform {
  private seen = 0;

  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      callback(
        new IntegrityError(
          'ARCHIVE_TOO_LARGE',
          `${this.what} decompresses to more than ${this.limit} bytes`,
          {
            hint:
              'the file may be a decompression bomb; if it is genuine, raise ' +
              'REGTOOL_MAX_UNCOMPRESSED (bytes)',
          },
        ),
      );
      return;
    }
    callback(null, chunk);
  }
}

/** The default bound on decompressed bytes: 256 GiB, or REGTOOL_MAX_UNCOMPRESSED. */
export function uncompressedLimit(env: NodeJS.ProcessEnv = process.env): number {
  const configured = Number(env.REGTOOL_MAX_UNCOMPRESSED);
  return Number.isFinite(configured) && configured > 0 ? configured : 256 * 1024 ** 3;
}

/**
 * decompressStream turns a possibly compressed stream into plain bytes, bounded in size; a
 * decompressor that fails (a truncated or corrupt input) fails the result with an
 * IntegrityError, and so does an input that fails.
 */
export function decompressStream(
  input: Readable,
  compression: StreamCompression,
  limit: number,
  what: string,
): Readable {
  const decompressor = createDecompressor(compression);
  const bounded = new SizeLimit(limit, what);
  input.on('error', (error) => bounded.destroy(error));
  decompressor.on('error', (error) =>
    bounded.destroy(decompressionFailure(error, compression, what)),
  );
  bounded.on('close', () => {
    input.destroy();
    decompressor.destroy();
  });
  return input.pipe(decompressor).pipe(bounded);
}

/**
 * peekStream reads the first bytes of a stream, enough to tell its compression, and returns
 * them with a stream that gives every byte again from the start.
 */
export async function peekStream(input: Readable): Promise<{ head: Buffer; stream: Readable }> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let head = Buffer.alloc(0);
  let done = false;
  while (!done && head.length < MAGIC_LENGTH) {
    const next = await chunks.next();
    if (next.done) done = true;
    else head = Buffer.concat([head, Buffer.from(next.value)]);
  }
  async function* again() {
    if (head.length > 0) yield head;
    while (!done) {
      const next = await chunks.next();
      if (next.done) return;
      yield Buffer.from(next.value);
    }
  }
  const stream = Readable.from(again(), { objectMode: false });
  stream.on('close', () => input.destroy());
  return { head: head.subarray(0, MAGIC_LENGTH), stream };
}
