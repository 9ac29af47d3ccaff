import { Readable } from 'node:stream';

import { verifyBytes, type Digest } from '../../core/digest.js';
import { NotFoundError } from '../../core/errors.js';
import { parseManifest } from '../../core/manifest.js';
import { DEFAULT_DOMAIN, Reference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type {
  BlobMounter,
  ImageEntry,
  ListFilter,
  ManifestContent,
  PutBlobOptions,
  Store,
} from '../../core/store.js';
import { openVerified, readVerified, writeVerified } from './blob-io.js';
import type { ObjectStorage } from './object-storage.js';
import {
  blobDataKey,
  layerLinkKey,
  linkContent,
  parseLink,
  parseTagCurrentKey,
  REPOSITORIES_PREFIX,
  revisionLinkKey,
  tagCurrentKey,
  tagIndexKey,
} from './registry-paths.js';

/** The repository inside the registry: a full name without its host (`library/busybox`). */
function repositoryPath(repository: string): string {
  return repository.slice(repository.indexOf('/') + 1);
}

/**
 * RegistryLayoutStore reads and writes the Distribution registry's own storage layout, so that
 * a registry whose storage points there (a directory or a bucket) serves the images as they
 * are. Blobs and manifests are written once verified, with the links that put them in a
 * repository; tag links are written on close, after everything they reach. Images are named
 * `docker.io/<repository>:<tag>`, so the repository path round-trips unchanged.
 */
export class RegistryLayoutStore implements Store, BlobMounter {
  readonly layout = 'registry';
  readonly location: string;
  private readonly pending: Array<{ repository: string; tag: string; digest: string }> = [];

  constructor(private readonly storage: ObjectStorage) {
    this.location = storage.location;
  }

  locate(reference: Reference): Reference {
    return reference;
  }

  async resolve(reference: Reference, asTyped?: string): Promise<Descriptor> {
    const repository = repositoryPath(reference.repository);
    let digest: Digest | undefined = reference.digest;
    if (digest === undefined) {
      const key = tagCurrentKey(repository, reference.tag ?? 'latest');
      const link = await this.storage.read(key);
      if (link === undefined) throw this.notFound(asTyped ?? reference.toString());
      digest = parseLink(link, key);
    }
    const bytes = await this.storage.read(blobDataKey(digest));
    if (bytes === undefined) throw this.notFound(asTyped ?? reference.toString());
    verifyBytes(bytes, { digest }, 'manifest');
    const parsed = parseManifest(bytes, undefined, `manifest ${digest}`);
    return { mediaType: parsed.mediaType, digest, size: bytes.length };
  }

  async getManifest(_repository: string, descriptor: Descriptor): Promise<ManifestContent> {
    const key = blobDataKey(descriptor.digest);
    const bytes = await readVerified(this.storage, key, descriptor, 'manifest');
    return { bytes, mediaType: descriptor.mediaType };
  }

  async hasManifest(repository: string, descriptor: Descriptor): Promise<boolean> {
    const key = revisionLinkKey(repositoryPath(repository), descriptor.digest);
    return (await this.storage.size(key)) !== undefined;
  }

  async hasBlob(repository: string, descriptor: Descriptor): Promise<boolean> {
    const key = layerLinkKey(repositoryPath(repository), descriptor.digest);
    return (await this.storage.size(key)) !== undefined;
  }

  async getBlob(_repository: string, descriptor: Descriptor): Promise<Readable> {
    return openVerified(this.storage, blobDataKey(descriptor.digest), descriptor);
  }

  async putBlob(
    repository: string,
    descriptor: Descriptor,
    content: Readable,
    options: PutBlobOptions = {},
  ): Promise<void> {
    const key = blobDataKey(descriptor.digest);
    await writeVerified(this.storage, key, descriptor, content, options.verified);
    await this.link(layerLinkKey(repositoryPath(repository), descriptor.digest), descriptor);
  }

  /** mountBlob links a blob that another repository already holds, moving no bytes. */
  async mountBlob(repository: string, descriptor: Descriptor): Promise<boolean> {
    if ((await this.storage.size(blobDataKey(descriptor.digest))) !== descriptor.size) return false;
    await this.link(layerLinkKey(repositoryPath(repository), descriptor.digest), descriptor);
    return true;
  }

  async putManifest(repository: string, descriptor: Descriptor, bytes: Uint8Array): Promise<void> {
    verifyBytes(bytes, descriptor, 'manifest');
    const content = Readable.from([Buffer.from(bytes)]);
    await writeVerified(this.storage, blobDataKey(descriptor.digest), descriptor, content);
    await this.link(revisionLinkKey(repositoryPath(repository), descriptor.digest), descriptor);
  }

  async tag(reference: Reference, descriptor: Descriptor): Promise<void> {
    // Without a tag the manifest is already reachable by digest through its revision link.
    if (reference.tag === undefined) return;
    const repository = repositoryPath(reference.repository);
    this.pending.push({ repository, tag: reference.tag, digest: descriptor.digest });
  }

  async *listImages(filter?: ListFilter): AsyncIterable<ImageEntry> {
    for await (const key of this.storage.list(REPOSITORIES_PREFIX)) {
      const found = parseTagCurrentKey(key);
      if (found === undefined) continue;
      const reference = new Reference(DEFAULT_DOMAIN, found.repository, found.tag);
      if (filter && !filter.wantsName(reference)) continue;
      const descriptor = await this.resolve(reference);
      yield { reference, descriptor };
    }
  }

  async close(): Promise<void> {
    for (const { repository, tag, digest } of this.pending.splice(0)) {
      await this.storage.write(tagIndexKey(repository, tag, digest), linkContent(digest));
      await this.storage.write(tagCurrentKey(repository, tag), linkContent(digest));
    }
  }

  async abort(): Promise<void> {
    this.pending.length = 0;
  }

  private async link(key: string, descriptor: Descriptor): Promise<void> {
    await this.storage.write(key, linkContent(descriptor.digest));
  }

  private notFound(name: string): NotFoundError {
    return new NotFoundError('IMAGE_NOT_FOUND', `${name} is not in ${this.location}`, {
      hint: `list what is there with: regtool ls ${this.location}`,
    });
  }
}
