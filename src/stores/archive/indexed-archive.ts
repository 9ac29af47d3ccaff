import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { NotFoundError, UsageError } from '../../core/errors.js';
import { readFileStream } from '../../core/file-stream.js';
import {
  decompressStream,
  detectStreamCompression,
  MAGIC_LENGTH,
  type StreamCompression,
} from './compression.js';
import { FileTarSource, StreamTarSource, walkTar, type TarEntry } from './tar-index.js';

/** Entries up to this size are kept in memory while a compressed archive is indexed. */
export const KEEP_ENTRY_BYTES = 1 << 20;
/** Kept entries together stay under this size. */
export const KEEP_TOTAL_BYTES = 32 << 20;

/**
 * IndexedArchive is a tar whose entries are known by path, read by random access when the
 * file is plain and by decompressing again when it is not.
 */
export interface IndexedArchive {
  readonly what: string;
  readonly compression: StreamCompression;
  /** The bound on decompressed bytes, for the archive and for each layer in it. */
  readonly limit: number;
  /** Every entry by path; when a path repeats, the last one wins, as when extracting. */
  readonly entries: Map<string, TarEntry>;
  /** The first bytes of an entry's data, to tell its compression. */
  head(entry: TarEntry): Promise<Buffer>;
  /** All of an entry's data; for small entries (manifests, configs). */
  bytes(entry: TarEntry): Promise<Buffer>;
  stream(entry: TarEntry): Readable;
  /** The sha256 digest of an entry's data. */
  digest(entry: TarEntry): Promise<string>;
  close(): Promise<void>;
}

/** How an archive is opened for indexing. */
export interface OpenArchiveOptions {
  /** The bound on decompressed bytes. */
  limit: number;
}

/** decompressed reads a compressed file as plain bytes, bounded in size. */
function decompressed(path: string, compression: StreamCompression, limit: number, what: string) {
  return decompressStream(readFileStream(path), compression, limit, what);
}

/** hashStream is the sha256 digest of all of a stream's bytes. */
export async function hashStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** collect reads all of a stream into memory. */
export async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function readMagic(file: FileHandle): Promise<Buffer> {
  const head = Buffer.alloc(MAGIC_LENGTH);
  const { bytesRead } = await file.read(head, 0, MAGIC_LENGTH, 0);
  return head.subarray(0, bytesRead);
}

/** PlainArchive is an uncompressed tar read in place: nothing is copied or extracted. */
class PlainArchive implements IndexedArchive {
  readonly compression = 'none';
  readonly entries = new Map<string, TarEntry>();
  private readonly digests = new Map<TarEntry, Promise<string>>();

  constructor(
    readonly what: string,
    readonly limit: number,
    private readonly path: string,
    private readonly file: FileHandle,
  ) {}

  async index(size: number): Promise<void> {
    const source = new FileTarSource(this.file, size, this.what);
    await walkTar(source, this.what, async (entry) => {
      this.entries.set(entry.path, entry);
    });
  }

  async head(entry: TarEntry): Promise<Buffer> {
    const head = Buffer.alloc(Math.min(MAGIC_LENGTH, entry.size));
    await this.file.read(head, 0, head.length, entry.offset);
    return head;
  }

  async bytes(entry: TarEntry): Promise<Buffer> {
    const data = Buffer.alloc(entry.size);
    await this.file.read(data, 0, entry.size, entry.offset);
    return data;
  }

  stream(entry: TarEntry): Readable {
    if (entry.size === 0) return Readable.from([]);
    return readFileStream(this.path, { start: entry.offset, end: entry.offset + entry.size - 1 });
  }

  digest(entry: TarEntry): Promise<string> {
    let known = this.digests.get(entry);
    if (!known) {
      known = hashStream(this.stream(entry));
      this.digests.set(entry, known);
    }
    return known;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/** A decompressing read of a compressed archive, at some position of its tar. */
interface Cursor {
  plain: Readable;
  source: StreamTarSource;
}

/**
 * CompressedArchive is indexed in one decompressing pass that keeps small entries, every
 * entry's head, and the digest of files outside blobs/; a large entry is read by decompressing
 * again up to it, or on from
 * where an earlier read stopped.
 */
class CompressedArchive implements IndexedArchive {
  readonly entries = new Map<string, TarEntry>();
  private readonly kept = new Map<TarEntry, Buffer>();
  private readonly heads = new Map<TarEntry, Buffer>();
  private readonly digests = new Map<TarEntry, string>();
  private readonly idle: Cursor[] = [];

  constructor(
    readonly what: string,
    readonly compression: StreamCompression,
    private readonly path: string,
    readonly limit: number,
  ) {}

  private plain(): Readable {
    return decompressed(this.path, this.compression, this.limit, this.what);
  }

  async index(): Promise<void> {
    const plain = this.plain();
    let keptBytes = 0;
    try {
      const source = new StreamTarSource(plain, this.what);
      await walkTar(source, this.what, async (entry, tar) => {
        this.entries.set(entry.path, entry);
        if (entry.type !== 'file') return;
        // An OCI blob is named by its digest, checked as it is read: hash only other files.
        const hash = entry.path.startsWith('blobs/') ? undefined : createHash('sha256');
        const keep = entry.size <= KEEP_ENTRY_BYTES && keptBytes + entry.size <= KEEP_TOTAL_BYTES;
        const parts: Buffer[] = [];
        let head = Buffer.alloc(0);
        await tar.consume(entry.size, (chunk) => {
          hash?.update(chunk);
          if (head.length < MAGIC_LENGTH)
            head = Buffer.concat([head, chunk.subarray(0, MAGIC_LENGTH - head.length)]);
          if (keep) parts.push(Buffer.from(chunk));
        });
        this.heads.set(entry, head);
        if (hash) this.digests.set(entry, `sha256:${hash.digest('hex')}`);
        if (keep) {
          keptBytes += entry.size;
          this.kept.set(entry, Buffer.concat(parts));
        }
      });
    } finally {
      plain.destroy();
    }
  }

  async head(entry: TarEntry): Promise<Buffer> {
    return this.heads.get(entry) ?? Buffer.alloc(0);
  }

  async bytes(entry: TarEntry): Promise<Buffer> {
    return this.kept.get(entry) ?? collect(this.stream(entry));
  }

  stream(entry: TarEntry): Readable {
    const kept = this.kept.get(entry);
    if (kept) return Readable.from([kept]);
    const cursor = this.takeCursor(entry.offset);
    const idle = this.idle;
    async function* slice() {
      let finished = false;
      try {
        await cursor.source.consume(entry.offset - cursor.source.position);
        for (let left = entry.size; left > 0;) {
          const parts: Buffer[] = [];
          const size = Math.min(left, 1 << 20);
          await cursor.source.consume(size, (chunk) => parts.push(chunk));
          left -= size;
          yield* parts;
        }
        finished = true;
      } finally {
        if (finished) idle.push(cursor);
        else cursor.plain.destroy();
      }
    }
    return Readable.from(slice(), { objectMode: false });
  }

  /**
   * takeCursor gives a decompressing reader positioned at or before an offset: an idle one
   * left there by an earlier read when there is one (entries read in archive order cost one
   * pass), else a new one from the start.
   */
  private takeCursor(offset: number): Cursor {
    let best: Cursor | undefined;
    for (const cursor of this.idle) {
      const position = cursor.source.position;
      if (position <= offset && (!best || position > best.source.position)) best = cursor;
    }
    if (best) {
      this.idle.splice(this.idle.indexOf(best), 1);
      return best;
    }
    const plain = this.plain();
    return { plain, source: new StreamTarSource(plain, this.what) };
  }

  async digest(entry: TarEntry): Promise<string> {
    return this.digests.get(entry) ?? hashStream(this.stream(entry));
  }

  async close(): Promise<void> {
    for (const cursor of this.idle.splice(0)) cursor.plain.destroy();
  }
}

/** openFailure says why an archive file cannot be opened. */
function openFailure(path: string, error: NodeJS.ErrnoException): Error {
  if (error.code === 'ENOENT') {
    return new NotFoundError('ARCHIVE_NOT_FOUND', `${path} does not exist`, {
      hint: 'check the file name',
    });
  }
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    return new UsageError('ARCHIVE_UNREADABLE', `cannot read ${path}: permission denied`, {
      cause: error,
      hint: "check the file's permissions, or run as a user who may read it",
    });
  }
  return error;
}

/** folderGiven is the error for a folder given where an archive file belongs. */
function folderGiven(path: string): UsageError {
  const layout = existsSync(join(path, 'oci-layout')) || existsSync(join(path, 'index.json'));
  return new UsageError('ARCHIVE_IS_FOLDER', `${path} is a folder, not an archive file`, {
    hint: layout
      ? `it is an OCI layout: copy its images with regtool copy NAME --from dir:${path} --to STORE`
      : 'give an archive file (a .tar, .tar.gz or .tar.zst written by docker save, podman, ' +
        'skopeo or regtool save)',
  });
}

/** openArchiveFile opens an archive file, refusing a folder or a file it may not read. */
async function openArchiveFile(path: string): Promise<FileHandle> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw openFailure(path, error as NodeJS.ErrnoException);
  }
  if ((await file.stat()).isDirectory()) {
    await file.close();
    throw folderGiven(path);
  }
  return file;
}

/** archiveFileCompression tells how an archive file is compressed, from its first bytes. */
export async function archiveFileCompression(path: string): Promise<StreamCompression> {
  const file = await openArchiveFile(path);
  try {
    return detectStreamCompression(await readMagic(file));
  } finally {
    await file.close();
  }
}

/**
 * openIndexedArchive indexes an archive file, telling its compression from its first bytes,
 * never from its name.
 */
export async function openIndexedArchive(
  path: string,
  options: OpenArchiveOptions,
): Promise<IndexedArchive> {
  const what = path;
  const file = await openArchiveFile(path);
  try {
    const compression = detectStreamCompression(await readMagic(file));
    if (compression === 'none') {
      const archive = new PlainArchive(what, options.limit, path, file);
      await archive.index((await stat(path)).size);
      return archive;
    }
    await file.close();
    const archive = new CompressedArchive(what, compression, path, options.limit);
    await archive.index();
    return archive;
  } catch (error) {
    await file.close().catch(() => {});
    throw error;
  }
}
