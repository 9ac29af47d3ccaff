import type { Readable } from 'node:stream';

import { NotFoundError } from '../../core/errors.js';
import { parseManifest, type ParsedManifest } from '../../core/manifest.js';
import { verifying } from '../../core/digest.js';
import { Reference, tryParseReference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type {
  AccessChecker,
  BlobMounter,
  ImageDeleter,
  ImageEntry,
  ListFilter,
  ManifestContent,
  PutBlobOptions,
  Store,
} from '../../core/store.js';
import { headBlob, mountBlob, openBlob } from './blobs.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { listRepositories, listTags } from './listing.js';
import {
  deleteManifest,
  fetchManifest,
  headManifest,
  pushManifest,
  type FetchedManifest,
} from './manifests.js';
import { addToReferrersTag, listReferrers } from './referrers.js';
import { uploadBlob } from './upload.js';

const dockerHubAliases = new Set(['index.docker.io', 'registry-1.docker.io']);

/** canonicalDomain spells a registry host the way references do (`docker.io` for the Hub). */
export function canonicalDomain(host: string): string {
  const lower = host.toLowerCase();
  return dockerHubAliases.has(lower) ? 'docker.io' : host;
}

/**
 * RegistryStore is a registry spoken to over the OCI Distribution API, as
 * `registry://HOST[/PREFIX]`. Images written into it keep their repository path, under
 * PREFIX, with the host replaced. Writes are immediate: blobs, then manifests, then tags.
 */
export class RegistryStore implements Store, AccessChecker, BlobMounter, ImageDeleter {
  readonly location: string;
  private readonly manifests = new Map<string, FetchedManifest>();

  constructor(
    readonly client: RegistryClient,
    readonly prefix: string,
  ) {
    this.location = `registry://${client.domain}${prefix ? `/${prefix}` : ''}`;
  }

  /** open connects lazily: nothing is sent until the first request. */
  static async open(
    address: { host: string; prefix: string },
    options: ClientOptions,
  ): Promise<RegistryStore> {
    const client = await RegistryClient.create(canonicalDomain(address.host), options);
    return new RegistryStore(client, address.prefix.replace(/^\/+|\/+$/g, ''));
  }

  get domain(): string {
    return this.client.domain;
  }

  locate(reference: Reference): Reference {
    const { prefix } = this;
    const already = reference.domain === this.domain && reference.path.startsWith(`${prefix}/`);
    const path = prefix && !already ? `${prefix}/${reference.path}` : reference.path;
    return reference.withRepository(this.domain, path);
  }

  async resolve(reference: Reference): Promise<Descriptor> {
    const located = this.locate(reference);
    const identifier = located.digest ?? located.tag ?? 'latest';
    const what = located.toString();
    const described = await headManifest(this.client, located.path, identifier, what);
    if (described) return described;
    const fetched = await fetchManifest(this.client, located.path, identifier, what);
    this.manifests.set(fetched.descriptor.digest, fetched);
    return fetched.descriptor;
  }

  async getManifest(repository: string, descriptor: Descriptor): Promise<ManifestContent> {
    const fetched =
      this.manifests.get(descriptor.digest) ??
      (await fetchManifest(
        this.client,
        this.pathOf(repository),
        descriptor.digest,
        `manifest ${repository}@${descriptor.digest}`,
      ));
    this.manifests.set(descriptor.digest, fetched);
    return { bytes: fetched.bytes, mediaType: fetched.descriptor.mediaType };
  }

  async hasManifest(repository: string, descriptor: Descriptor): Promise<boolean> {
    try {
      await headManifest(
        this.client,
        this.pathOf(repository),
        descriptor.digest,
        `${repository}@${descriptor.digest}`,
      );
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  hasBlob(repository: string, descriptor: Descriptor): Promise<boolean> {
    return headBlob(
      this.client,
      this.pathOf(repository),
      descriptor,
      this.blobName(repository, descriptor),
    );
  }

  getBlob(repository: string, descriptor: Descriptor): Promise<Readable> {
    return openBlob(
      this.client,
      this.pathOf(repository),
      descriptor,
      this.blobName(repository, descriptor),
    );
  }

  putBlob(
    repository: string,
    descriptor: Descriptor,
    content: Readable,
    options: PutBlobOptions = {},
  ): Promise<void> {
    return uploadBlob(
      this.client,
      this.pathOf(repository),
      descriptor,
      verifying(content, descriptor, this.blobName(repository, descriptor), options.verified),
      this.blobName(repository, descriptor),
    );
  }

  async putManifest(repository: string, descriptor: Descriptor, bytes: Uint8Array): Promise<void> {
    const what = `manifest ${repository}@${descriptor.digest}`;
    const path = this.pathOf(repository);
    const { subjectIndexed } = await pushManifest(
      this.client,
      path,
      descriptor.digest,
      descriptor,
      bytes,
      what,
    );
    this.manifests.set(descriptor.digest, { descriptor, bytes });
    const parsed = parseManifest(bytes, descriptor.mediaType, what);
    const subject =
      parsed.kind === 'schema1'
        ? undefined
        : (parsed.kind === 'index' ? parsed.index : parsed.manifest).subject;
    if (subject && !subjectIndexed) {
      await addToReferrersTag(
        this.client,
        path,
        subject.digest,
        referrerDescriptor(parsed, descriptor),
      );
    }
  }

  /** tag PUTs the manifest again under its tag; an untagged image is already stored by digest. */
  async tag(reference: Reference, descriptor: Descriptor): Promise<void> {
    const located = this.locate(reference);
    if (located.tag === undefined) return;
    const { bytes } = await this.getManifest(located.repository, descriptor);
    await pushManifest(
      this.client,
      located.path,
      located.tag,
      descriptor,
      bytes,
      located.toString(),
    );
  }

  /** checkAccess checks the credentials as login does, before a long read (a load). */
  checkAccess(): Promise<void> {
    return this.client.verifyCredentials();
  }

  async mountBlob(
    repository: string,
    descriptor: Descriptor,
    fromRepository: string,
  ): Promise<boolean> {
    if (!fromRepository.startsWith(`${this.domain}/`) || fromRepository === repository)
      return false;
    return mountBlob(this.client, this.pathOf(repository), descriptor, this.pathOf(fromRepository));
  }

  async deleteImage(reference: Reference): Promise<Descriptor> {
    const located = this.locate(reference);
    const descriptor = await this.resolve(located);
    await deleteManifest(this.client, located.path, descriptor.digest, located.toString());
    return descriptor;
  }

  /** repositories yields the catalog's repository paths under this store's prefix. */
  async *repositories(): AsyncGenerator<string> {
    for await (const path of listRepositories(this.client)) {
      if (!this.prefix || path.startsWith(`${this.prefix}/`)) yield path;
    }
  }

  /** tags yields the tags of one repository path. */
  tags(path: string): AsyncGenerator<string> {
    return listTags(this.client, path);
  }

  /** referrers lists the manifests that refer to a digest (signatures, SBOMs, attestations). */
  referrers(repository: string, digest: string): Promise<Descriptor[]> {
    return listReferrers(this.client, this.pathOf(repository), digest);
  }

  async *listImages(filter?: ListFilter): AsyncIterable<ImageEntry> {
    for await (const path of this.repositories()) {
      if (filter && !filter.wantsRepository(new Reference(this.domain, path))) continue;
      for (const tag of await this.tagsOrNone(path)) {
        const reference = tryParseReference(`${this.domain}/${path}:${tag}`);
        if (reference === undefined || (filter && !filter.wantsName(reference))) continue;
        yield { reference, descriptor: await this.resolve(reference) };
      }
    }
  }

  /**
   * tagsOrNone lists the tags of one repository path, none for a repository the catalog lists
   * that has lost its last tag (or never got one: an upload that failed leaves blobs only).
   */
  async tagsOrNone(path: string): Promise<string[]> {
    const tags: string[] = [];
    try {
      for await (const tag of this.tags(path)) tags.push(tag);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    return tags;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async abort(): Promise<void> {
    await this.client.close();
  }

  /** pathOf strips the registry host off a full repository name. */
  private pathOf(repository: string): string {
    return repository.startsWith(`${this.domain}/`)
      ? repository.slice(this.domain.length + 1)
      : this.locate(new Reference(this.domain, repository.slice(repository.indexOf('/') + 1))).path;
  }

  private blobName(repository: string, descriptor: Descriptor): string {
    return `blob ${descriptor.digest} of ${repository}`;
  }
}

/** referrerDescriptor is how a referrer is listed: with its artifact type and annotations. */
function referrerDescriptor(parsed: ParsedManifest, descriptor: Descriptor): Descriptor {
  const body =
    parsed.kind === 'index' ? parsed.index : parsed.kind === 'image' ? parsed.manifest : undefined;
  const config = parsed.kind === 'image' ? parsed.manifest.config.mediaType : undefined;
  const artifactType = body?.artifactType ?? config;
  return {
    mediaType: parsed.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(artifactType ? { artifactType } : {}),
    ...(body?.annotations ? { annotations: body.annotations } : {}),
  };
}
