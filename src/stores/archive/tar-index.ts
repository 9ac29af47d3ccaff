import type { FileHandle } from 'node:fs/promises';

import { Header, Pax, type HeaderData } from 'tar';

import { IntegrityError, UnsupportedError } from '../../core/errors.js';

const BLOCK = 512;

/** One entry of a tar, located by the offset of its data in the uncompressed tar. */
export interface TarEntry {
  /** The path without a leading `./` or a trailing `/`. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  size: number;
  /** Where the entry's data starts in the uncompressed tar. */
  offset: number;
  linkpath?: string;
}

/** Where a tar's blocks come from: a file read in place, or a stream read once. */
export interface TarSource {
  readonly position: number;
  /** read returns exactly `length` bytes, or undefined at the end of the input. */
  read(length: number): Promise<Buffer | undefined>;
  /** consume moves past `length` bytes, handing them to `onChunk` when given. */
  consume(length: number, onChunk?: (chunk: Buffer) => void): Promise<void>;
  /**
   * finish reads what follows the end-of-archive blocks, so that a decompressor reaches the
   * end of its input and checks it (the gzip trailer's CRC and size).
   */
  finish?(): Promise<void>;
}

/** Reads data of the current entry; what it leaves unread is skipped by the walker. */
export type EntryVisitor = (entry: TarEntry, source: TarSource) => Promise<void>;

function truncated(what: string): IntegrityError {
  return new IntegrityError('ARCHIVE_TRUNCATED', `${what} ends in the middle of an entry`, {
    hint: 'the file is incomplete; copy or download it again',
  });
}

/**
 * shortOf is the error for input that ends within a header block: at the very start, it holds
 * less than one header, so it is no tar at all; later, a tar cut short.
 */
function shortOf(what: string, position: number): Error {
  return position === 0 ? notTar(what, 0) : truncated(what);
}

/** FileTarSource reads a tar file in place, by offset, without reading data it skips. */
export class FileTarSource implements TarSource {
  position = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly fileSize: number,
    private readonly what: string,
  ) {}

  async read(length: number): Promise<Buffer | undefined> {
    if (this.position >= this.fileSize) return undefined;
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await this.file.read(buffer, 0, length, this.position);
    if (bytesRead < length) throw shortOf(this.what, this.position);
    this.position += length;
    return buffer;
  }

  async consume(length: number, onChunk?: (chunk: Buffer) => void): Promise<void> {
    if (this.position + length > this.fileSize) throw truncated(this.what);
    if (onChunk) {
      for (let done = 0; done < length;) {
        const size = Math.min(1 << 20, length - done);
        const buffer = Buffer.alloc(size);
        await this.file.read(buffer, 0, size, this.position + done);
        onChunk(buffer);
        done += size;
      }
    }
    this.position += length;
  }
}

/** StreamTarSource reads a tar from a stream (a decompressor), in one pass. */
export class StreamTarSource implements TarSource {
  position = 0;
  private pending: Buffer = Buffer.alloc(0);
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(
    stream: AsyncIterable<Buffer>,
    private readonly what: string,
  ) {
    this.chunks = stream[Symbol.asyncIterator]();
  }

  async read(length: number): Promise<Buffer | undefined> {
    while (this.pending.length < length) {
      const next = await this.chunks.next();
      if (next.done) {
        if (this.pending.length === 0) return undefined;
        throw shortOf(this.what, this.position);
      }
      this.pending =
        this.pending.length === 0 ? next.value : Buffer.concat([this.pending, next.value]);
    }
    const out = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    this.position += length;
    return out;
  }

  async consume(length: number, onChunk?: (chunk: Buffer) => void): Promise<void> {
    let left = length;
    while (left > 0) {
      if (this.pending.length === 0) {
        const next = await this.chunks.next();
        if (next.done) throw truncated(this.what);
        this.pending = next.value;
      }
      const take = this.pending.subarray(0, Math.min(left, this.pending.length));
      this.pending = this.pending.subarray(take.length);
      onChunk?.(take);
      left -= take.length;
      this.position += take.length;
    }
  }

  async finish(): Promise<void> {
    this.pending = Buffer.alloc(0);
    for (let next = await this.chunks.next(); !next.done; next = await this.chunks.next());
  }
}

const entryTypes: Record<string, TarEntry['type']> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
};

function cleanPath(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function notTar(what: string, offset: number): UnsupportedError {
  const where = offset === 0 ? 'it does not start with a tar header' : `at byte ${offset}`;
  return new UnsupportedError('ARCHIVE_NOT_TAR', `${what} is not a tar archive (${where})`, {
    hint:
      'give an image archive written by docker save, podman save, skopeo, crane or regtool ' +
      'save',
  });
}

/** parseHeader reads a tar header block; a block that is not one means the input is no tar. */
function parseHeader(
  block: Buffer,
  what: string,
  offset: number,
  extended: HeaderData | undefined,
  global: HeaderData | undefined,
): Header {
  let header: Header;
  try {
    header = new Header(block, 0, extended, global);
  } catch {
    // node-tar throws on fields it cannot decode (a bad base-256 number): not a tar header.
    throw notTar(what, offset);
  }
  if (!header.cksumValid) throw notTar(what, offset);
  return header;
}

async function readBody(source: TarSource, size: number): Promise<string> {
  const parts: Buffer[] = [];
  await source.consume(size, (chunk) => parts.push(Buffer.from(chunk)));
  return Buffer.concat(parts).toString('utf8');
}

/**
 * walkTar visits every entry of a tar in order, applying pax and GNU long-name headers, and
 * skips whatever data the visitor leaves unread. It stops at the end-of-archive blocks.
 */
export async function walkTar(source: TarSource, what: string, visit: EntryVisitor): Promise<void> {
  let extended: HeaderData | undefined;
  let global: HeaderData | undefined;
  let longPath: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const start = source.position;
    const block = await source.read(BLOCK);
    if (!block || block.every((byte) => byte === 0)) {
      await source.finish?.();
      return;
    }
    const header = parseHeader(block, what, start, extended, global);
    const size = header.size ?? 0;
    const dataEnd = source.position + Math.ceil(size / BLOCK) * BLOCK;
    switch (header.type) {
      case 'ExtendedHeader':
        extended = Pax.parse(await readBody(source, size), extended);
        break;
      case 'GlobalExtendedHeader':
        global = Pax.parse(await readBody(source, size), global, true);
        break;
      case 'NextFileHasLongPath':
        longPath = (await readBody(source, size)).replace(/\0.*$/s, '');
        break;
      case 'NextFileHasLongLinkpath':
        longLink = (await readBody(source, size)).replace(/\0.*$/s, '');
        break;
      default: {
        const linkpath = longLink ?? extended?.linkpath ?? header.linkpath;
        await visit(
          {
            path: cleanPath(longPath ?? header.path ?? ''),
            type: entryTypes[header.type] ?? 'other',
            size,
            offset: source.position,
            linkpath: linkpath || undefined,
          },
          source,
        );
        extended = undefined;
        longPath = undefined;
        longLink = undefined;
      }
    }
    await source.consume(dataEnd - source.position);
  }
}
