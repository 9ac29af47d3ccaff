import { rename, rm } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';

import { IntegrityError, NotFoundError, UnsupportedError, UsageError } from '../../core/errors.js';
import { layerCompression } from '../../core/media-types.js';
import type { Reference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type {
  ImageEntry,
  ManifestContent,
  OrderedSink,
  PlannedImage,
  Store,
} from '../../core/store.js';
import { blobPath, planArchiveLayout } from './archive-layout.js';
import { openOutputFile } from './output-file.js';
import { createOutputSink, type OutputCompression, type OutputSink } from './output-sink.js';
import { TarWriter } from './tar-writer.js';

/** How many bytes the output file takes before a write waits for the disk. */
const OUTPUT_BUFFER = 1 << 20;

/**
 * compressionForPath tells the compression an output file's name asks for. A name that asks
 * for one regtool does not write (`.xz`, `.bz2`…) is refused rather than given a plain tar.
 */
export function compressionForPath(path: string): OutputCompression {
  if (/\.(t?gz|gzip)$/i.test(path)) return 'gzip';
  if (/\.(zst|zstd)$/i.test(path)) return 'zstd';
  const other = /\.(xz|txz|bz2|tbz2?|lz4|lzma|lz|z)$/i.exec(path);
  if (other) {
    throw new UsageError('USAGE', `regtool does not write .${other[1]} archives`, {
      hint: 'name the file .tar, .tar.gz or .tar.zst, or give --compress none|gzip|zstd',
    });
  }
  return 'none';
}

function writeOnly(location: string): UnsupportedError {
  return new UnsupportedError('ARCHIVE_WRITE_ONLY', `${location} is being written`, {
    hint: 'read the archive once it is written, with regtool ls or load',
  });
}

/**
 * ArchiveWriter writes one tar that is an OCI image layout and a Docker archive at once.
 * It is an OrderedSink: it learns every image before the first layer, writes the small files
 * first and then each layer once, in the order it asked for. A file is written under a
 * temporary name and renamed on close; abort removes it.
 */
export class ArchiveWriter implements Store, OrderedSink {
  private tar?: TarWriter;
  private sink?: OutputSink;
  private readonly planned: PlannedImage[] = [];
  private readonly written = new Set<string>();
  private pending: Descriptor[] = [];

  private constructor(
    readonly location: string,
    private readonly output: Writable,
    private readonly compression: OutputCompression,
    private readonly files?: { temp: string; target: string },
    private readonly owned = false,
  ) {}

  /**
   * toFile writes the archive to a path (see openOutputFile for links, devices and FIFOs);
   * compression from the name unless given.
   */
  static async toFile(
    path: string,
    options: { compression?: OutputCompression },
  ): Promise<ArchiveWriter> {
    const file = await openOutputFile(path);
    // With a 1 MiB buffer, a layer's chunks (64 KiB each, from a socket or a file) are written
    // several at once, not with one system call and one wait for 'drain' each.
    const output = file.handle.createWriteStream({ highWaterMark: OUTPUT_BUFFER });
    // Writes and the final flush report failures themselves; a write still in flight when an
    // aborted save destroys the file must not become an uncaught error.
    output.on('error', () => {});
    return new ArchiveWriter(
      `archive:${path}`,
      output,
      options.compression ?? compressionForPath(path),
      file.kind === 'file' ? { temp: file.temp, target: file.target } : undefined,
      true,
    );
  }

  /** toStream writes the archive to a stream the caller owns (standard output). */
  static toStream(output: Writable, options: { compression?: OutputCompression }): ArchiveWriter {
    return new ArchiveWriter('archive:-', output, options.compression ?? 'none');
  }

  locate(reference: Reference): Reference {
    return reference;
  }

  async beginImages(images: PlannedImage[]): Promise<Descriptor[]> {
    if (this.tar) throw new UnsupportedError('ARCHIVE_BEGUN', `${this.location} was already begun`);
    this.sink = createOutputSink(this.output, this.compression, this.owned);
    this.tar = new TarWriter(this.sink);
    this.planned.push(...images);
    const layout = planArchiveLayout(images);
    for (const file of layout.files) await this.tar.addFile(file.path, file.bytes);
    await this.tar.addDirectory('blobs');
    await this.tar.addDirectory('blobs/sha256');
    for (const blob of layout.smallBlobs) {
      await this.tar.addFile(blobPath(blob.digest), blob.bytes);
      this.written.add(blob.digest);
    }
    this.pending = [...layout.layers];
    return layout.layers;
  }

  async putBlob(_repository: string, descriptor: Descriptor, content: Readable): Promise<void> {
    if (this.written.has(descriptor.digest)) {
      content.resume();
      return;
    }
    const tar = this.tar ?? (await this.beginEmpty());
    // The source's stream is verified as it is read (the Store contract), and a bad blob
    // fails the whole archive, which abort() removes; hashing the bytes a second time here
    // would only slow every save down. The size is checked as the entry is written.
    const compressible = layerCompression(descriptor.mediaType) === 'none';
    await tar.addStream(blobPath(descriptor.digest), descriptor.size, content, compressible);
    this.written.add(descriptor.digest);
    this.pending = this.pending.filter((layer) => layer.digest !== descriptor.digest);
  }

  async putManifest(_repository: string, descriptor: Descriptor): Promise<void> {
    if (!this.written.has(descriptor.digest)) {
      throw new UnsupportedError(
        'ARCHIVE_UNPLANNED',
        `manifest ${descriptor.digest} was not announced before the first layer of ` +
          `${this.location}`,
        { hint: 'write archives through copyImages, which announces every image first' },
      );
    }
  }

  async tag(): Promise<void> {}

  async resolve(reference: Reference): Promise<Descriptor> {
    throw new NotFoundError('IMAGE_NOT_FOUND', `${reference} is not in the new ${this.location}`);
  }

  async hasManifest(_repository: string, descriptor: Descriptor): Promise<boolean> {
    return this.written.has(descriptor.digest);
  }

  async hasBlob(_repository: string, descriptor: Descriptor): Promise<boolean> {
    return this.written.has(descriptor.digest);
  }

  async getManifest(): Promise<ManifestContent> {
    throw writeOnly(this.location);
  }

  async getBlob(): Promise<Readable> {
    throw writeOnly(this.location);
  }

  async *listImages(): AsyncIterable<ImageEntry> {
    for (const plan of this.planned) yield { reference: plan.reference, descriptor: plan.root };
  }

  async close(): Promise<void> {
    const tar = this.tar ?? (await this.beginEmpty());
    if (this.pending.length > 0) {
      throw new IntegrityError(
        'ARCHIVE_INCOMPLETE',
        `${this.location} is missing ${this.pending.length} layers (${this.pending[0]!.digest} ` +
          `first)`,
        { hint: 'the copy stopped early; run the save again' },
      );
    }
    await tar.finish();
    if (this.files) await rename(this.files.temp, this.files.target);
  }

  /** abort stops the compressor (if any), closes a file it opened and removes its temp file. */
  async abort(): Promise<void> {
    this.sink?.destroy();
    if (this.owned) this.output.destroy();
    if (this.files) await rm(this.files.temp, { force: true });
  }

  private async beginEmpty(): Promise<TarWriter> {
    await this.beginImages([]);
    return this.tar!;
  }
}
