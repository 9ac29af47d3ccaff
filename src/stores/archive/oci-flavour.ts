import { isDigest } from '../../core/digest.js';
import { NotFoundError } from '../../core/errors.js';
import { tryParseReference } from '../../core/reference.js';
import { descriptorSchema, type Descriptor } from '../../core/schemas.js';
import { walkManifests } from '../../core/walk.js';
import {
  addBlob,
  invalidMetadata,
  readEntryBytes,
  readJsonFile,
  type ArchiveBlob,
  type ArchiveContents,
  type ArchiveImage,
} from './contents.js';
import { configDiffIds } from './docker-image.js';
import type { IndexedArchive } from './indexed-archive.js';
import { findEntry } from './links.js';

/** The annotation that names an image in an OCI layout's index.json. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** The annotation containerd (and Docker 25+) name an image with, always a full reference. */
export const CONTAINERD_NAME = 'io.containerd.image.name';

/** addLayoutBlobs records every `blobs/<algorithm>/<hex>` entry, links followed. */
export function addLayoutBlobs(archive: IndexedArchive, contents: ArchiveContents): void {
  for (const path of archive.entries.keys()) {
    const match = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(path);
    if (!match) continue;
    const digest = `${match[1]}:${match[2]}`;
    if (!isDigest(digest)) continue;
    const entry = findEntry(archive.entries, path, archive.what);
    addBlob(contents, { digest, size: entry.size, source: { kind: 'entry', entry } });
  }
}

/** readIndexEntries reads index.json's manifests; `null` (as Docker 25 writes it) is none. */
async function readIndexEntries(archive: IndexedArchive): Promise<Descriptor[]> {
  const { value } = await readJsonFile(archive, 'index.json');
  const manifests = (value as { manifests?: unknown } | null)?.manifests;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidMetadata(archive, 'index.json', 'is not an OCI image index');
  }
  if (manifests === null || manifests === undefined) return [];
  const result = descriptorSchema.array().safeParse(manifests);
  if (!result.success) throw invalidMetadata(archive, 'index.json', 'has malformed manifests');
  return result.data;
}

function blobBytes(archive: IndexedArchive, blob: ArchiveBlob | undefined, digest: string) {
  if (!blob) {
    throw new NotFoundError('BLOB_NOT_FOUND', `${archive.what} has no blob ${digest}`, {
      hint: 'the archive is incomplete; write it again',
    });
  }
  return blob.source.kind === 'bytes'
    ? Promise.resolve(Buffer.from(blob.source.bytes))
    : readEntryBytes(archive, blob.source.entry);
}

/**
 * noteDiffIds walks an image's manifests, records for each layer the diff_id its config gives
 * it, and returns the configs met. Missing blobs are left for the copy to report.
 */
export async function noteDiffIds(
  archive: IndexedArchive,
  contents: ArchiveContents,
  root: Descriptor,
): Promise<string[]> {
  const configs: string[] = [];
  const fetch = async (descriptor: Descriptor) => ({
    bytes: await blobBytes(archive, contents.blobs.get(descriptor.digest), descriptor.digest),
  });
  try {
    await walkManifests(root, fetch, async ({ parsed }) => {
      if (parsed.kind !== 'image') return;
      const { config, layers } = parsed.manifest;
      configs.push(config.digest);
      const configBlob = contents.blobs.get(config.digest);
      if (!configBlob) return;
      const bytes = await blobBytes(archive, configBlob, config.digest);
      let diffIds: string[];
      try {
        diffIds = configDiffIds(bytes, `config ${config.digest}`);
      } catch {
        return; // An artifact's config (not an image config) has no diff_ids to check.
      }
      if (diffIds.length !== layers.length) return;
      layers.forEach((layer, i) => {
        const blob = contents.blobs.get(layer.digest);
        if (blob) blob.diffId ??= diffIds[i];
      });
    });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  return configs;
}

/**
 * addIndexImages adds the images index.json names (OCI layouts from skopeo, podman, buildah,
 * Docker 25+, containerd, nested indexes) and returns them by the configs they reach.
 */
export async function addIndexImages(
  archive: IndexedArchive,
  contents: ArchiveContents,
): Promise<Map<string, ArchiveImage>> {
  const byConfig = new Map<string, ArchiveImage>();
  for (const descriptor of await readIndexEntries(archive)) {
    const name = descriptor.annotations?.[CONTAINERD_NAME] ?? descriptor.annotations?.[REF_NAME];
    const image: ArchiveImage = {
      name,
      reference: name === undefined ? undefined : tryParseReference(name),
      descriptor,
    };
    contents.images.push(image);
    for (const config of await noteDiffIds(archive, contents, descriptor))
      if (!byConfig.has(config)) byConfig.set(config, image);
  }
  return byConfig;
}
