import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { pipeline, Readable } from 'node:stream';

import { DigestVerifier, verifyBytes } from '../../core/digest.js';
import { NotFoundError, UnsupportedError } from '../../core/errors.js';
import { readFileStream } from '../../core/file-stream.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { parseManifest } from '../../core/manifest.js';
import type { Reference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type { ImageEntry, ManifestContent, OnePassSource, Store } from '../../core/store.js';
import { detectStreamCompression, uncompressedLimit } from './compression.js';
import {
  readEntryBytes,
  type ArchiveBlob,
  type ArchiveContents,
  type ArchiveImage,
} from './contents.js';
import { DiffIdCheck } from './diff-id-check.js';
import { readArchiveContents } from './flavour.js';
import {
  archiveFileCompression,
  openIndexedArchive,
  type IndexedArchive,
} from './indexed-archive.js';
import { StreamingArchive } from './streaming-archive.js';
import type { TarEntry } from './tar-index.js';

/** How an archive is opened for reading. */
export interface ArchiveReaderOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * Where entries of a stream (stdin, or a compressed file read `once`) that arrive before they
   * are asked for are spooled: best
   * the destination's own temporary space; the system's temporary directory by default.
   */
  spoolDir?: string;
  /**
   * The archive is read once, as a copy reads it: a compressed file is then read in one
   * streaming pass, spooling to `spoolDir` what arrives before it is asked for, rather than
   * decompressed again for each entry asked for out of order.
   */
  once?: boolean;
  /** What a stream is called in messages; `the archive on standard input` by default. */
  what?: string;
  /** Where warnings about the archive go (names dropped or moved). */
  logger?: Logger;
  /** How many blobs the copy reads at once, when known (its `--jobs`). */
  readers?: number;
  /** Stops reading a stream (InterruptedError) when aborted before its images are known. */
  signal?: AbortSignal;
}

/** isPipe tells whether a path is something other than a file or a folder: a pipe or a device. */
async function isPipe(path: string): Promise<boolean> {
  const stats = await stat(path).catch(() => undefined);
  return stats !== undefined && !stats.isFile() && !stats.isDirectory();
}

function readOnly(location: string): UnsupportedError {
  return new UnsupportedError('ARCHIVE_READ_ONLY', `${location} is opened for reading`, {
    hint: 'write a new archive with regtool save -o FILE, or copy --to archive:FILE',
  });
}

/**
 * ArchiveReader is an image archive of any flavour (docker save old and new, OCI archives from
 * skopeo, podman, buildah and containerd, crane and kaniko tarballs) seen as a read-only store.
 */
export class ArchiveReader implements Store, OnePassSource {
  private constructor(
    readonly location: string,
    private readonly archive: IndexedArchive,
    private readonly contents: ArchiveContents,
    private readonly limit: number,
  ) {}

  /**
   * open indexes an archive file and reads what it holds, or starts reading a stream in one
   * pass and waits until the images it holds are known.
   */
  static async open(input: string | Readable, options: ArchiveReaderOptions = {}) {
    const limit = uncompressedLimit(options.env);
    if (typeof input !== 'string') {
      const { archive, contents } = await StreamingArchive.open(input, {
        limit,
        spoolDir: options.spoolDir ?? tmpdir(),
        what: options.what ?? 'the archive on standard input',
        readers: options.readers,
        signal: options.signal,
      });
      return new ArchiveReader('archive:-', archive, contents, limit).warn(options.logger);
    }
    if (await isPipe(input)) {
      // A pipe or a device (`<(…)`, a FIFO, /dev/stdin) cannot be read twice or at an offset.
      const { archive, contents } = await StreamingArchive.open(readFileStream(input), {
        limit,
        spoolDir: options.spoolDir ?? tmpdir(),
        what: input,
        readers: options.readers,
        signal: options.signal,
      });
      return new ArchiveReader(`archive:${input}`, archive, contents, limit).warn(options.logger);
    }
    if (options.once && (await archiveFileCompression(input)) !== 'none') {
      const { archive, contents } = await StreamingArchive.open(readFileStream(input), {
        limit,
        spoolDir: options.spoolDir ?? tmpdir(),
        what: input,
        rereadHint:
          'decompress it first (gunzip, zstd -d, xz -d or bzip2 -d) and read the plain tar',
        readers: options.readers,
        signal: options.signal,
      });
      return new ArchiveReader(`archive:${input}`, archive, contents, limit).warn(options.logger);
    }
    const archive = await openIndexedArchive(input, { limit });
    try {
      const contents = await readArchiveContents(archive);
      return new ArchiveReader(`archive:${input}`, archive, contents, limit).warn(options.logger);
    } catch (error) {
      await archive.close();
      throw error;
    }
  }

  /** warn tells the logger what reading the archive changed (names dropped or moved). */
  private warn(logger: Logger = silentLogger): this {
    for (const warning of this.contents.warnings) logger.warn(warning);
    return this;
  }

  /**
   * The archive's flavour, as told by its contents: `docker`, `oci`, `docker+oci`, `docker-legacy`.
   */
  get flavour(): string {
    return this.contents.flavour;
  }

  /** How many bytes of a streamed archive went to spool files (none for a file). */
  get spooledBytes(): number {
    return this.archive instanceof StreamingArchive ? this.archive.spooledBytes : 0;
  }

  /** The images in the order the archive lists them, unnamed ones included. */
  get images(): readonly ArchiveImage[] {
    return this.contents.images;
  }

  locate(reference: Reference): Reference {
    return reference;
  }

  async resolve(reference: Reference, asTyped?: string): Promise<Descriptor> {
    if (reference.digest !== undefined) return this.resolveDigest(reference.digest);
    const found = this.contents.images.find(
      ({ name, reference: known }) =>
        (name !== undefined && (name === asTyped || name === reference.toString())) ||
        known?.toString() === reference.toString(),
    );
    if (!found) {
      throw new NotFoundError(
        'IMAGE_NOT_FOUND',
        `${asTyped ?? reference.toString()} is not in ${this.location}`,
        {
          hint: `list what is there with: regtool ls ${this.location}`,
        },
      );
    }
    return found.descriptor;
  }

  async getManifest(_repository: string, descriptor: Descriptor): Promise<ManifestContent> {
    const bytes = await this.blobBytes(this.findBlob(descriptor.digest));
    verifyBytes(bytes, descriptor, `manifest in ${this.location}`);
    return { bytes, mediaType: descriptor.mediaType };
  }

  async hasManifest(repository: string, descriptor: Descriptor): Promise<boolean> {
    return this.hasBlob(repository, descriptor);
  }

  async hasBlob(_repository: string, descriptor: Descriptor): Promise<boolean> {
    return this.contents.blobs.get(descriptor.digest)?.size === descriptor.size;
  }

  /** Whether the archive arrives as a stream, so each blob can be read from it once. */
  get readsOnce(): boolean {
    return this.archive instanceof StreamingArchive;
  }

  expectBlobs(descriptors: Descriptor[]): void {
    if (!(this.archive instanceof StreamingArchive)) return;
    const entries = new Map<string, TarEntry>();
    for (const { digest } of descriptors) {
      const entry = this.entryOf(digest);
      if (entry) entries.set(digest, entry);
    }
    this.archive.expect([...entries.values()]);
  }

  passBlob(_repository: string, descriptor: Descriptor): void {
    const entry = this.entryOf(descriptor.digest);
    if (this.archive instanceof StreamingArchive && entry) this.archive.pass(entry);
  }

  /** entryOf is the archive entry a blob is read from (none for one whose bytes are known). */
  private entryOf(digest: string): TarEntry | undefined {
    const source = this.contents.blobs.get(digest)?.source;
    return source?.kind === 'entry' ? source.entry : undefined;
  }

  async getBlob(_repository: string, descriptor: Descriptor): Promise<Readable> {
    const blob = this.findBlob(descriptor.digest);
    const verifier = new DigestVerifier(descriptor, `blob in ${this.location}`);
    if (blob.source.kind === 'bytes')
      return Readable.from([Buffer.from(blob.source.bytes)]).pipe(verifier);
    const entry = blob.source.entry;
    const source = this.archive.stream(entry);
    let head: Buffer;
    try {
      head = await this.archive.head(entry);
    } catch (error) {
      source.destroy();
      throw error;
    }
    const compression = detectStreamCompression(head);
    const streams: Readable[] = [source, verifier];
    if (blob.diffId !== undefined && compression !== 'none') {
      const what = `layer ${blob.digest} in ${this.location}`;
      streams.push(new DiffIdCheck(blob.diffId, compression, what, this.limit));
    }
    // A reader that stops early (its destination failed) destroys the last stream: the archive
    // then learns of it, rather than waiting for it to take more. Errors reach the last stream.
    pipeline(streams, () => {});
    return streams.at(-1)!;
  }

  async putBlob(): Promise<void> {
    throw readOnly(this.location);
  }

  async putManifest(): Promise<void> {
    throw readOnly(this.location);
  }

  async tag(): Promise<void> {
    throw readOnly(this.location);
  }

  async *listImages(): AsyncIterable<ImageEntry> {
    for (const { name, reference, descriptor } of this.contents.images)
      yield { name, reference, descriptor };
  }

  /**
   * finish checks, once the images wanted are copied, the rest of an archive read as a stream:
   * it is accepted only whole, as a file (read whole when it is opened) is.
   */
  async finish(): Promise<void> {
    if (this.archive instanceof StreamingArchive) await this.archive.finish();
  }

  async close(): Promise<void> {
    await this.archive.close();
  }

  async abort(): Promise<void> {
    await this.archive.close();
  }

  private async resolveDigest(digest: string): Promise<Descriptor> {
    const image = this.contents.images.find(({ descriptor }) => descriptor.digest === digest);
    if (image) return image.descriptor;
    const blob = this.findBlob(digest);
    const bytes = await this.blobBytes(blob);
    const parsed = parseManifest(bytes, undefined, `manifest ${digest} in ${this.location}`);
    return { mediaType: parsed.mediaType, digest, size: bytes.length };
  }

  private findBlob(digest: string): ArchiveBlob {
    const blob = this.contents.blobs.get(digest);
    if (!blob) {
      throw new NotFoundError('BLOB_NOT_FOUND', `${this.location} has no blob ${digest}`, {
        hint: 'the archive is incomplete; write it again from the source images',
      });
    }
    return blob;
  }

  private async blobBytes(blob: ArchiveBlob): Promise<Uint8Array> {
    if (blob.source.kind === 'bytes') return blob.source.bytes;
    return readEntryBytes(this.archive, blob.source.entry);
  }
}
