import { createReadStream, type ReadStream } from 'node:fs';

/**
 * How much of a file one read takes. Node's default (64 KiB) costs dearly downstream: each
 * chunk is one call into zlib, whose fixed cost per call made a 200 MB gunzip twice as slow.
 */
export const READ_CHUNK = 1 << 20;

/**
 * readFileStream reads a file, or the bytes `start` to `end` (inclusive) of it, in large chunks.
 */
export function readFileStream(
  path: string,
  range: { start?: number; end?: number } = {},
): ReadStream {
  return createReadStream(path, { ...range, highWaterMark: READ_CHUNK });
}
