import type { Readable } from 'node:stream';

import { NotFoundError, UnsupportedError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { Reference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type {
  ImageDeleter,
  ImageEntry,
  ManifestContent,
  OrderedSink,
  PlannedImage,
  Store,
} from '../../core/store.js';
import type { ArchiveAccess } from './archive-access.js';
import { configDescriptor, listDaemonImages } from './daemon-images.js';
import { DaemonLoader } from './daemon-loader.js';
import { onlyImage, resolveSaved } from './saved-archive.js';
import type { EngineClient } from './engine-client.js';
import { discardBody } from './http-exchange.js';

export interface DaemonStoreOptions {
  /** A store opened to write takes images in (load); one opened to read gives them out (save). */
  mode: 'read' | 'write';
  logger?: Logger;
}

/**
 * DaemonStore is a Docker Engine API daemon seen as a store. Read, each image comes from
 * `GET /images/get`, streamed into an archive reader; written, the images go as one archive
 * streamed into `POST /images/load`, so the daemon is an ordered sink.
 */
export class DaemonStore implements Store, OrderedSink, ImageDeleter {
  readonly location: string;
  private readonly saved: Store[] = [];
  private readonly logger: Logger;
  private loader?: DaemonLoader;

  constructor(
    private readonly client: EngineClient,
    private readonly archives: ArchiveAccess,
    private readonly options: DaemonStoreOptions,
  ) {
    this.location = `docker-daemon: (${client.endpoint.display})`;
    this.logger = options.logger ?? silentLogger;
  }

  /** connect checks that the daemon answers, and agrees on the API version. */
  async connect(): Promise<void> {
    await this.client.apiVersion();
  }

  locate(reference: Reference): Reference {
    return reference;
  }

  /**
   * resolve saves the image from the daemon and reads the archive. Opened to write, it finds
   * nothing: a daemon keeps no manifest digests to compare, so every image is loaded.
   */
  async resolve(reference: Reference, asTyped?: string): Promise<Descriptor> {
    if (this.options.mode === 'write') {
      throw new NotFoundError('DAEMON_NO_MANIFESTS', `${reference}: the daemon keeps no manifests`);
    }
    const { name } = await this.findImage(reference);
    const display = this.client.endpoint.display;
    const response = await this.client.send({
      path: '/images/get',
      query: { names: [name] },
      lookup: true,
      unbounded: true,
      what: `saving ${name} from the daemon at ${display}`,
    });
    const archive = await this.readSaved(response.body, name);
    if (name === reference.digest) return onlyImage(archive, name);
    return resolveSaved(archive, reference, asTyped);
  }

  async getManifest(repository: string, descriptor: Descriptor): Promise<ManifestContent> {
    const archive = await this.holder((a) => a.hasManifest(repository, descriptor), descriptor);
    return archive.getManifest(repository, descriptor);
  }

  async hasManifest(repository: string, descriptor: Descriptor): Promise<boolean> {
    return (await this.find((a) => a.hasManifest(repository, descriptor))) !== undefined;
  }

  async hasBlob(repository: string, descriptor: Descriptor): Promise<boolean> {
    return (await this.find((a) => a.hasBlob(repository, descriptor))) !== undefined;
  }

  async getBlob(repository: string, descriptor: Descriptor): Promise<Readable> {
    const archive = await this.holder((a) => a.hasBlob(repository, descriptor), descriptor);
    return archive.getBlob(repository, descriptor);
  }

  /** beginImages opens a load; a load begun before is finished first (its images are whole). */
  async beginImages(images: PlannedImage[]): Promise<Descriptor[]> {
    const previous = this.loader;
    this.loader = undefined;
    await previous?.finish();
    this.loader = new DaemonLoader(this.client, this.archives, this.logger);
    return this.loader.begin(images);
  }

  putBlob(repository: string, descriptor: Descriptor, content: Readable): Promise<void> {
    return this.load().putBlob(repository, descriptor, content);
  }

  putManifest(repository: string, descriptor: Descriptor, bytes: Uint8Array): Promise<void> {
    return this.load().putManifest(repository, descriptor, bytes);
  }

  tag(reference: Reference, descriptor: Descriptor): Promise<void> {
    return this.load().tag(reference, descriptor);
  }

  listImages(): AsyncIterable<ImageEntry> {
    return listDaemonImages(this.client);
  }

  /** close waits until the daemon has loaded what was written, and fails if it did not. */
  async close(): Promise<void> {
    try {
      await this.loader?.finish();
    } finally {
      await Promise.allSettled(this.saved.map((archive) => archive.close()));
      await this.client.close();
    }
  }

  /** abort cuts a load short, so that the daemon loads nothing of it. */
  async abort(): Promise<void> {
    await this.loader?.abort();
    await Promise.allSettled(this.saved.map((archive) => archive.abort()));
    await this.client.close();
  }

  /** deleteImage removes a name from the daemon, and the image with it when no other holds it. */
  async deleteImage(reference: Reference): Promise<Descriptor> {
    const { name, descriptor } = await this.findImage(reference);
    const what = `removing ${reference} from the daemon`;
    const response = await this.client.send({
      method: 'DELETE',
      path: `/images/${name}`,
      lookup: true,
      what,
    });
    await discardBody(response.body);
    return descriptor;
  }

  /**
   * findImage finds the name the daemon knows an image by (the reference, or for an image with
   * no name its ID, the digest of its config) and the descriptor of that config.
   */
  private async findImage(reference: Reference): Promise<{ name: string; descriptor: Descriptor }> {
    const name = reference.toString();
    try {
      return { name, descriptor: await this.inspect(name, reference) };
    } catch (error) {
      if (!(error instanceof NotFoundError) || reference.digest === undefined) throw error;
    }
    return { name: reference.digest, descriptor: await this.inspect(reference.digest, reference) };
  }

  private async inspect(name: string, reference: Reference): Promise<Descriptor> {
    const what = `finding ${reference} in the daemon`;
    const answer = await this.client.getJson(`/images/${name}/json`, what, true);
    return configDescriptor(answer);
  }

  private load(): DaemonLoader {
    if (this.loader === undefined) {
      throw new UnsupportedError(
        'DAEMON_UNPLANNED',
        'the daemon takes images as one archive, so it must know every image before any blob',
        { hint: 'copy into the daemon with regtool load or regtool copy' },
      );
    }
    return this.loader;
  }

  private async readSaved(body: Readable, name: string): Promise<Store> {
    const what = `saving ${name} from the daemon at ${this.client.endpoint.display}`;
    try {
      const archive = await this.archives.readArchive(body, what);
      this.saved.push(archive);
      return archive;
    } catch (error) {
      body.destroy();
      throw this.client.streamError(error, what);
    }
  }

  private async find(has: (archive: Store) => Promise<boolean>): Promise<Store | undefined> {
    for (const archive of this.saved) if (await has(archive)) return archive;
    return undefined;
  }

  private async holder(has: (archive: Store) => Promise<boolean>, descriptor: Descriptor) {
    const archive = await this.find(has);
    if (archive !== undefined) return archive;
    throw new NotFoundError(
      'DAEMON_CONTENT_NOT_FOUND',
      `${descriptor.digest} is in no image saved from the daemon at ` +
        `${this.client.endpoint.display}`,
      { hint: 'name the image first, so that regtool saves it from the daemon' },
    );
  }
}
