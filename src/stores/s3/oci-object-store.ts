import { Readable } from 'node:stream';

import { splitDigest, verifyBytes } from '../../core/digest.js';
import { NotFoundError } from '../../core/errors.js';
import { parseManifest } from '../../core/manifest.js';
import { tryParseReference, type Reference } from '../../core/reference.js';
import type { Descriptor, ImageIndex } from '../../core/schemas.js';
import type { ImageEntry, ManifestContent, PutBlobOptions, Store } from '../../core/store.js';
import { openVerified, readVerified, writeVerified } from './blob-io.js';
import type { ObjectStorage } from './object-storage.js';
import { mergeIndexEntries, readOciIndex, REF_NAME, type IndexEntry } from './oci-index.js';

const LAYOUT_FILE = `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`;

function blobKey(digest: string): string {
  const { algorithm, hex } = splitDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

/** The parts of a descriptor an index.json entry keeps. */
function indexDescriptor(descriptor: Descriptor): Descriptor {
  const { mediaType, digest, size, platform, artifactType } = descriptor;
  return {
    mediaType,
    digest,
    size,
    ...(platform && { platform }),
    ...(artifactType && { artifactType }),
  };
}

/**
 * OciObjectStore is an OCI image layout kept as objects (`oci-layout`, `index.json`,
 * `blobs/sha256/<hex>`). Blobs are written once verified; index.json is re-read, merged and
 * written on close, so names appear only after everything they reach. Blobs already written
 * stay when the store is aborted: they are complete, and a re-run then skips them.
 */
export class OciObjectStore implements Store {
  readonly layout = 'oci';
  readonly location: string;
  private readonly pending: IndexEntry[] = [];
  private index?: Promise<ImageIndex>;

  constructor(private readonly storage: ObjectStorage) {
    this.location = storage.location;
  }

  locate(reference: Reference): Reference {
    return reference;
  }

  async resolve(reference: Reference, asTyped?: string): Promise<Descriptor> {
    const index = await this.readIndex();
    if (reference.digest !== undefined) {
      const entry = index.manifests.find((candidate) => candidate.digest === reference.digest);
      if (entry) return entry;
      const bytes = await this.storage.read(blobKey(reference.digest));
      if (bytes === undefined) throw this.notFound(`${reference}`);
      verifyBytes(bytes, { digest: reference.digest }, 'manifest');
      const parsed = parseManifest(bytes, undefined, `manifest ${reference.digest}`);
      return { mediaType: parsed.mediaType, digest: reference.digest, size: bytes.length };
    }
    const names = [reference.toString(), reference.familiar(), asTyped];
    const entry = index.manifests.find((candidate) =>
      names.includes(candidate.annotations?.[REF_NAME]),
    );
    if (!entry) throw this.notFound(asTyped ?? reference.toString());
    return entry;
  }

  async getManifest(_repository: string, descriptor: Descriptor): Promise<ManifestContent> {
    const bytes = await readVerified(
      this.storage,
      blobKey(descriptor.digest),
      descriptor,
      'manifest',
    );
    return { bytes, mediaType: descriptor.mediaType };
  }

  async hasManifest(repository: string, descriptor: Descriptor): Promise<boolean> {
    return this.hasBlob(repository, descriptor);
  }

  async hasBlob(_repository: string, descriptor: Descriptor): Promise<boolean> {
    return (await this.storage.size(blobKey(descriptor.digest))) === descriptor.size;
  }

  async getBlob(_repository: string, descriptor: Descriptor): Promise<Readable> {
    return openVerified(this.storage, blobKey(descriptor.digest), descriptor);
  }

  async putBlob(
    _repository: string,
    descriptor: Descriptor,
    content: Readable,
    options: PutBlobOptions = {},
  ): Promise<void> {
    const key = blobKey(descriptor.digest);
    await writeVerified(this.storage, key, descriptor, content, options.verified);
  }

  async putManifest(repository: string, descriptor: Descriptor, bytes: Uint8Array): Promise<void> {
    verifyBytes(bytes, descriptor, 'manifest');
    await this.putBlob(repository, descriptor, Readable.from([Buffer.from(bytes)]));
  }

  async tag(reference: Reference, descriptor: Descriptor): Promise<void> {
    const name = reference.tag === undefined ? undefined : reference.toString();
    this.pending.push({ name, descriptor: indexDescriptor(descriptor) });
  }

  /** tagName names an image by a raw ref name, as layouts other tools wrote do (`v1`). */
  tagName(name: string, descriptor: Descriptor): void {
    this.pending.push({ name, descriptor });
  }

  async *listImages(): AsyncIterable<ImageEntry> {
    const index = await this.readIndex();
    for (const descriptor of index.manifests) {
      const name = descriptor.annotations?.[REF_NAME];
      const reference = name === undefined ? undefined : tryParseReference(name);
      yield { reference, descriptor, name };
    }
  }

  async close(): Promise<void> {
    if (this.pending.length === 0) return;
    if ((await this.storage.size('oci-layout')) === undefined) {
      await this.storage.write('oci-layout', LAYOUT_FILE);
    }
    // Re-read at the last moment: another writer may have added names since this one opened.
    const merged = mergeIndexEntries(await readOciIndex(this.storage), this.pending.splice(0));
    await this.storage.write('index.json', `${JSON.stringify(merged)}\n`);
    this.index = Promise.resolve(merged);
  }

  async abort(): Promise<void> {
    this.pending.length = 0;
  }

  private readIndex(): Promise<ImageIndex> {
    this.index ??= this.readIndexOrFail();
    return this.index;
  }

  private async readIndexOrFail(): Promise<ImageIndex> {
    const [index, layout] = await Promise.all([
      readOciIndex(this.storage),
      this.storage.size('oci-layout'),
    ]);
    if (layout === undefined && index.manifests.length === 0) {
      throw new NotFoundError('STORE_NOT_FOUND', `${this.location} holds no images`, {
        hint: 'check the address, or write images there first (migrate, copy, load)',
      });
    }
    return index;
  }

  private notFound(name: string): NotFoundError {
    return new NotFoundError('IMAGE_NOT_FOUND', `${name} is not in ${this.location}`, {
      hint: `list what is there with: regtool ls ${this.location}`,
    });
  }
}
