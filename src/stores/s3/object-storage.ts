import type { Readable } from 'node:stream';

/**
 * ObjectStorage is a flat key → bytes space: an S3 bucket under a prefix, or a directory. The
 * two image layouts (oci and registry) are written over it, so both work on S3 and on disk.
 * Keys use `/` and never start with one.
 */
export interface ObjectStorage {
  /** Where the objects are, for messages; never holds credentials. */
  readonly location: string;

  /** size returns an object's size, or undefined when there is none. */
  size(key: string): Promise<number | undefined>;

  /** read returns an object's bytes, or undefined when there is none. */
  read(key: string): Promise<Buffer | undefined>;

  /** openRead streams an object; undefined when there is none. */
  openRead(key: string): Promise<Readable | undefined>;

  /** write stores small bytes under a key; readers see the old or the new object, never a part. */
  write(key: string, bytes: Uint8Array | string): Promise<void>;

  /**
   * writeStream stores what the stream yields, but only once the stream has ended without an
   * error: a stream that fails (a digest mismatch, an interrupt) leaves no object behind.
   */
  writeStream(key: string, content: Readable, size: number): Promise<void>;

  /** list yields every key that starts with the prefix, in no promised order. */
  list(prefix: string): AsyncIterable<string>;

  /** exists tells whether any key starts with the prefix. */
  exists(prefix: string): Promise<boolean>;

  /** remove deletes objects; missing ones are fine. */
  remove(keys: string[]): Promise<void>;
}
