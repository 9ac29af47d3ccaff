import { sha256Digest } from '../../core/digest.js';
import { parseManifest } from '../../core/manifest.js';
import { dockerArchiveManifestSchema, type DockerArchiveEntry } from '../../core/schemas.js';
import { tryParseReference } from '../../core/reference.js';
import {
  invalidMetadata,
  readEntryBytes,
  readJsonFile,
  type ArchiveContents,
  type ArchiveImage,
} from './contents.js';
import { addDockerImage, addImage } from './docker-image.js';
import type { IndexedArchive } from './indexed-archive.js';
import { findEntry } from './links.js';
import { noteDiffIds } from './oci-flavour.js';

/** The largest blob regtool reads while looking for a manifest that matches a config. */
const MANIFEST_CANDIDATE_BYTES = 1 << 16;

/** readDockerManifest reads and checks `manifest.json`, the list of images of `docker save`. */
export async function readDockerManifest(archive: IndexedArchive): Promise<DockerArchiveEntry[]> {
  const { value } = await readJsonFile(archive, 'manifest.json');
  if (value === null)
    throw invalidMetadata(archive, 'manifest.json', 'is null, not a list of images');
  const result = dockerArchiveManifestSchema.safeParse(value);
  if (!result.success) {
    throw invalidMetadata(
      archive,
      'manifest.json',
      'is not a list of images ({"Config", "RepoTags", "Layers"} entries)',
    );
  }
  return result.data;
}

/**
 * findStoredManifest looks in the archive's blobs/ for the manifest an image had (Docker 25
 * and later keep it there), so that its digest is kept rather than a rebuilt one.
 */
async function findStoredManifest(
  archive: IndexedArchive,
  configDigest: string,
  layerCount: number,
): Promise<{ bytes: Buffer; mediaType: string } | undefined> {
  for (const entry of archive.entries.values()) {
    if (!entry.path.startsWith('blobs/') || entry.type !== 'file') continue;
    if (entry.size > MANIFEST_CANDIDATE_BYTES) continue;
    const bytes = await readEntryBytes(archive, entry);
    try {
      const parsed = parseManifest(bytes);
      if (
        parsed.kind === 'image' &&
        parsed.manifest.config.digest === configDigest &&
        parsed.manifest.layers.length === layerCount
      )
        return { bytes, mediaType: parsed.mediaType };
    } catch {
      // Not a manifest (a config, a small layer): keep looking.
    }
  }
  return undefined;
}

/**
 * addDockerImages adds the images of `manifest.json` (docker save 1.10 to 24, Docker 25+,
 * podman, skopeo, crane, kaniko) except those whose config an image already added has.
 */
export async function addDockerImages(
  archive: IndexedArchive,
  contents: ArchiveContents,
  entries: DockerArchiveEntry[],
  knownConfigs: Map<string, ArchiveImage>,
): Promise<void> {
  for (const [i, image] of entries.entries()) {
    const configEntry = findEntry(archive.entries, image.Config, archive.what);
    const configBytes = await readEntryBytes(archive, configEntry);
    const configDigest = sha256Digest(configBytes);
    const repoTags = image.RepoTags ?? [];
    const known = knownConfigs.get(configDigest);
    if (known !== undefined) {
      nameImage(contents, known, repoTags);
      continue;
    }
    const stored = await findStoredManifest(archive, configDigest, image.Layers.length);
    if (stored && contents.blobs.has(sha256Digest(stored.bytes))) {
      addImage(contents, stored.bytes, stored.mediaType, repoTags);
      await noteDiffIds(archive, contents, contents.images.at(-1)!.descriptor);
      continue;
    }
    const layers = image.Layers.map((path) => findEntry(archive.entries, path, archive.what));
    await addDockerImage(archive, contents, {
      configBytes,
      layers,
      repoTags,
      configPath: `manifest.json entry ${i} (${image.Config})`,
    });
  }
}

/** nameImage gives an unnamed image of the OCI index the names manifest.json has for it. */
function nameImage(contents: ArchiveContents, image: ArchiveImage, repoTags: string[]): void {
  if (image.name !== undefined || repoTags.length === 0) return;
  const [first, ...others] = repoTags;
  image.name = first;
  image.reference = tryParseReference(first!);
  for (const name of others)
    contents.images.push({ ...image, name, reference: tryParseReference(name) });
}
