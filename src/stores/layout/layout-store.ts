import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import {
  access,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  digestHex,
  DigestVerifier,
  splitDigest,
  verifyBytes,
  verifying,
} from '../../core/digest.js';
import { NotFoundError, UsageError } from '../../core/errors.js';
import { readFileStream } from '../../core/file-stream.js';
import { parseManifest } from '../../core/manifest.js';
import { tryParseReference, type Reference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type {
  AbortReason,
  BlobPruner,
  ImageDeleter,
  ImageEntry,
  ManifestContent,
  PutBlobOptions,
  Store,
} from '../../core/store.js';
import { isManifestDescriptor, walkManifests } from '../../core/walk.js';
import { removeTempFiles, STALE_TEMP_MS } from './temp-files.js';
import { writeFailure } from './write-failure.js';
import {
  readIndex,
  REF_NAME,
  updateIndex,
  writeFileAtomic,
  emptyIndex,
  type IndexChange,
} from './index-file.js';

const LAYOUT_FILE = `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`;
const TEMP_DIR = '.regtool-tmp';

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** nameMatches tells whether an index entry's ref name is the image the user asked for. */
function nameMatches(name: string, reference: Reference, asTyped?: string): boolean {
  return name === reference.toString() || name === reference.familiar() || name === asTyped;
}

/**
 * LayoutStore is an OCI image layout directory: the local store, or any layout another tool
 * wrote. Blobs land under a temporary name and are renamed once verified; index.json is
 * changed only on close, under a lock, so concurrent writers lose nothing.
 */
export class LayoutStore implements Store, ImageDeleter, BlobPruner {
  readonly location: string;
  readonly dir: string;
  private readonly changes: IndexChange[] = [];
  private readonly created: string[] = [];
  private createdDir = false;
  /** The folders above the layout that this store made for it, the innermost first. */
  private readonly madeParents: string[] = [];
  private prepared?: Promise<void>;

  private readonly missingIsEmpty: boolean;

  /** With `missingIsEmpty` (the local store), a directory not made yet holds no images. */
  constructor(dir: string, options: { missingIsEmpty?: boolean } = {}) {
    this.dir = dir;
    this.location = `dir:${dir}`;
    this.missingIsEmpty = options.missingIsEmpty ?? false;
  }

  locate(reference: Reference): Reference {
    return reference;
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = splitDigest(digest);
    return join(this.dir, 'blobs', algorithm, hex);
  }

  async resolve(reference: Reference, asTyped?: string): Promise<Descriptor> {
    const index = await this.readIndexOrFail();
    if (reference.digest !== undefined) {
      const entry = index.manifests.find((candidate) => candidate.digest === reference.digest);
      if (entry) return entry;
      const bytes = await this.readBlobBytes(reference.digest, `${reference}`);
      const parsed = parseManifest(bytes, undefined, `manifest ${reference.digest}`);
      return { mediaType: parsed.mediaType, digest: reference.digest, size: bytes.length };
    }
    const entry = index.manifests.find((candidate) => {
      const name = candidate.annotations?.[REF_NAME];
      return name !== undefined && nameMatches(name, reference, asTyped);
    });
    if (!entry) {
      throw new NotFoundError(
        'IMAGE_NOT_FOUND',
        `${asTyped ?? reference.toString()} is not in ${this.location}`,
        {
          hint: `list what is there with: regtool ls ${this.location}`,
        },
      );
    }
    return entry;
  }

  async getManifest(_repository: string, descriptor: Descriptor): Promise<ManifestContent> {
    const bytes = await this.readBlobBytes(descriptor.digest, `manifest ${descriptor.digest}`);
    verifyBytes(bytes, descriptor, 'manifest');
    return { bytes, mediaType: descriptor.mediaType };
  }

  async hasManifest(repository: string, descriptor: Descriptor): Promise<boolean> {
    return this.hasBlob(repository, descriptor);
  }

  async hasBlob(_repository: string, descriptor: Descriptor): Promise<boolean> {
    try {
      const info = await stat(this.blobPath(descriptor.digest));
      return info.size === descriptor.size;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async getBlob(_repository: string, descriptor: Descriptor): Promise<Readable> {
    const path = this.blobPath(descriptor.digest);
    try {
      await access(path);
    } catch (error) {
      if (isMissing(error)) throw this.blobNotFound(descriptor.digest);
      throw error;
    }
    const verifier = new DigestVerifier(descriptor, `blob in ${this.location}`);
    // Large reads: each read is a trip to the thread pool, and layers are read whole.
    const file = readFileStream(path);
    file.on('error', (error) => verifier.destroy(error));
    return file.pipe(verifier);
  }

  async putBlob(
    _repository: string,
    descriptor: Descriptor,
    content: Readable,
    options: PutBlobOptions = {},
  ): Promise<void> {
    await this.prepare();
    const target = this.blobPath(descriptor.digest);
    if (await this.hasBlob(_repository, descriptor)) {
      content.resume();
      return;
    }
    const temp = join(
      this.dir,
      TEMP_DIR,
      `${digestHex(descriptor.digest)}.${randomBytes(6).toString('hex')}`,
    );
    try {
      const checked = verifying(content, descriptor, 'blob', options.verified);
      await pipeline(checked, createWriteStream(temp));
      await mkdir(join(target, '..'), { recursive: true });
      await rename(temp, target);
      this.created.push(target);
    } catch (error) {
      await rm(temp, { force: true });
      throw writeFailure(this.dir, this.location, error);
    }
  }

  async putManifest(repository: string, descriptor: Descriptor, bytes: Uint8Array): Promise<void> {
    verifyBytes(bytes, descriptor, 'manifest');
    await this.putBlob(repository, descriptor, Readable.from([Buffer.from(bytes)]));
  }

  async tag(reference: Reference, descriptor: Descriptor): Promise<void> {
    const { mediaType, digest, size, platform, artifactType } = descriptor;
    const entry: Descriptor = { mediaType, digest, size };
    if (platform) entry.platform = platform;
    if (artifactType) entry.artifactType = artifactType;
    if (reference.tag === undefined) {
      this.changes.push({ kind: 'unnamed', descriptor: entry });
      return;
    }
    this.changes.push({ kind: 'name', name: reference.toString(), descriptor: entry });
  }

  /** tagName names an image by a raw ref name, as foreign layouts do (`v1`). */
  tagName(name: string, descriptor: Descriptor): void {
    this.changes.push({ kind: 'name', name, descriptor });
  }

  async *listImages(): AsyncIterable<ImageEntry> {
    const index = await this.readIndexOrFail();
    for (const descriptor of index.manifests) {
      const name = descriptor.annotations?.[REF_NAME];
      const reference = name === undefined ? undefined : tryParseReference(name);
      yield { reference, descriptor, name };
    }
  }

  async deleteImage(reference: Reference, asTyped?: string): Promise<Descriptor> {
    const descriptor = await this.resolve(reference, asTyped);
    const name = descriptor.annotations?.[REF_NAME];
    this.changes.push({
      kind: 'remove',
      name: reference.digest ? undefined : name,
      digest: descriptor.digest,
    });
    return descriptor;
  }

  async prune(): Promise<{ blobs: number; bytes: number; tempFiles: number }> {
    // A folder that does not exist, or is no layout, is named wrongly: nothing to prune there.
    const index = await this.readIndexOrFail();
    const keep = new Set<string>();
    for (const root of index.manifests) {
      keep.add(root.digest);
      if (!isManifestDescriptor(root)) continue;
      await walkManifests(
        root,
        (d) => this.getManifest('', d),
        ({ parsed }) => {
          if (parsed.kind === 'index') parsed.index.manifests.forEach((d) => keep.add(d.digest));
          if (parsed.kind === 'image') {
            keep.add(parsed.manifest.config.digest);
            parsed.manifest.layers.forEach((d) => keep.add(d.digest));
          }
        },
      );
    }
    let blobs = 0;
    let bytes = 0;
    for (const algorithm of await this.listDir(join(this.dir, 'blobs'))) {
      for (const hex of await this.listDir(join(this.dir, 'blobs', algorithm))) {
        if (keep.has(`${algorithm}:${hex}`)) continue;
        const path = join(this.dir, 'blobs', algorithm, hex);
        bytes += (await stat(path)).size;
        await unlink(path);
        blobs += 1;
      }
    }
    const tempFiles = await removeTempFiles(join(this.dir, TEMP_DIR));
    return { blobs, bytes, tempFiles };
  }

  async close(): Promise<void> {
    if (this.changes.length > 0) await this.prepare();
    await updateIndex(this.dir, this.changes.splice(0));
    this.created.length = 0;
  }

  async abort(reason: AbortReason = 'failed'): Promise<void> {
    this.changes.length = 0;
    // Verified blobs are whole and named by their digest: after Ctrl-C they stay (without a
    // name pointing at them), so the same command run again moves only what is missing.
    if (reason === 'interrupted') {
      this.created.length = 0;
      return;
    }
    if (this.createdDir) {
      await rm(this.dir, { recursive: true, force: true });
      // A folder made for it goes too, unless something else has since been put there.
      for (const parent of this.madeParents) await rmdir(parent).catch(() => undefined);
      return;
    }
    await Promise.all(this.created.splice(0).map((path) => rm(path, { force: true })));
  }

  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      const dir = resolve(this.dir);
      const first = await mkdir(dir, { recursive: true });
      if (first !== undefined) {
        this.createdDir = true;
        for (let parent = dirname(dir); parent.length >= first.length; parent = dirname(parent))
          this.madeParents.push(parent);
      }
      await mkdir(join(this.dir, TEMP_DIR), { recursive: true });
      // What a killed writer left; a live writer's files are recent and stay.
      await removeTempFiles(join(this.dir, TEMP_DIR), STALE_TEMP_MS);
      await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
      try {
        await access(join(this.dir, 'oci-layout'));
      } catch (error) {
        if (!isMissing(error)) throw error;
        await writeFileAtomic(join(this.dir, 'oci-layout'), LAYOUT_FILE);
      }
    })().catch((error: unknown) => {
      throw writeFailure(this.dir, this.location, error);
    });
    return this.prepared;
  }

  private async readIndexOrFail() {
    try {
      await access(join(this.dir, 'index.json'));
    } catch (error) {
      if (!isMissing(error)) throw error;
      try {
        await access(this.dir);
      } catch {
        if (this.missingIsEmpty) return emptyIndex();
        throw new NotFoundError('STORE_NOT_FOUND', `${this.location} does not exist`, {
          hint: 'check the path, or write images there first (load, pull or copy)',
        });
      }
      // An empty directory is a layout not written yet: it holds no images.
      if ((await this.listDir(this.dir)).length === 0) return emptyIndex();
      try {
        await access(join(this.dir, 'oci-layout'));
      } catch {
        throw new UsageError(
          'LAYOUT_INVALID',
          `${this.dir} is not an OCI image layout (no oci-layout or index.json)`,
          {
            hint: 'name a directory written by regtool, skopeo (oci:DIR) or umoci',
          },
        );
      }
    }
    return readIndex(this.dir);
  }

  private async readBlobBytes(digest: string, what: string): Promise<Uint8Array> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (error) {
      if (isMissing(error)) throw this.blobNotFound(digest, what);
      throw error;
    }
  }

  private blobNotFound(digest: string, what = `blob ${digest}`): NotFoundError {
    return new NotFoundError('BLOB_NOT_FOUND', `${what} is missing from ${this.location}`, {
      hint: `the layout is incomplete; run regtool verify ${this.location}`,
    });
  }

  private async listDir(path: string): Promise<string[]> {
    try {
      return (await readdir(path)).filter((name) => !name.startsWith('.'));
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }
}
