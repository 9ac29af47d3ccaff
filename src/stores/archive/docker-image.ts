import { sha256Digest } from '../../core/digest.js';
import { IntegrityError, UnsupportedError } from '../../core/errors.js';
import { layerMediaType, MediaType } from '../../core/media-types.js';
import { tryParseReference } from '../../core/reference.js';
import { imageConfigSchema, type Descriptor } from '../../core/schemas.js';
import { detectStreamCompression } from './compression.js';
import { addBlob, type ArchiveContents } from './contents.js';
import type { IndexedArchive } from './indexed-archive.js';
import type { TarEntry } from './tar-index.js';

/** An image as Docker's archive formats describe it: a config, layer files and names. */
export interface DockerImageSpec {
  configBytes: Uint8Array;
  layers: TarEntry[];
  repoTags: string[];
  /** Where the config came from, for messages. */
  configPath: string;
}

/** configDiffIds reads `rootfs.diff_ids` from a config's bytes. */
export function configDiffIds(bytes: Uint8Array, what: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new IntegrityError('CONFIG_INVALID', `${what} is not valid JSON`, { cause: error });
  }
  const result = imageConfigSchema.safeParse(value);
  if (!result.success) {
    throw new IntegrityError('CONFIG_INVALID', `${what} is not an image config`, {
      cause: result.error,
      hint: 'the archive is damaged or was written by a broken tool',
    });
  }
  return result.data.rootfs.diff_ids ?? [];
}

/**
 * describeLayer makes the descriptor of a layer file from its actual bytes: compression from
 * its first bytes, and, for an uncompressed layer, the diff_id as digest (checked as it is
 * read). A compressed layer must decompress to its diff_id.
 */
async function describeLayer(
  archive: IndexedArchive,
  contents: ArchiveContents,
  entry: TarEntry,
  diffId: string,
): Promise<{ descriptor: Omit<Descriptor, 'mediaType'>; compression: 'none' | 'gzip' | 'zstd' }> {
  // Even a layer with no files is a tar (its end-of-archive blocks): an empty file is none.
  if (entry.size === 0) {
    throw new IntegrityError(
      'ARCHIVE_ENTRY_INVALID',
      `${archive.what}: layer "${entry.path}" is an empty file, not a tar`,
      { hint: 'the archive is damaged or was written by a broken tool; write it again' },
    );
  }
  const compression = detectStreamCompression(await archive.head(entry));
  if (compression === 'xz' || compression === 'bzip2') {
    throw new UnsupportedError(
      'LAYER_COMPRESSION_UNSUPPORTED',
      `${archive.what}: layer "${entry.path}" is ${compression}-compressed`,
      { hint: 'image layers may be plain, gzip or zstd; recompress the layer' },
    );
  }
  const digest = compression === 'none' ? diffId : await archive.digest(entry);
  addBlob(contents, {
    digest,
    size: entry.size,
    source: { kind: 'entry', entry },
    diffId: compression === 'none' ? undefined : diffId,
  });
  return { descriptor: { digest, size: entry.size }, compression };
}

/** addDockerImage adds an image given Docker's way, building its manifest from the files. */
export async function addDockerImage(
  archive: IndexedArchive,
  contents: ArchiveContents,
  spec: DockerImageSpec,
): Promise<void> {
  const configWhat = `${archive.what}: config ${spec.configPath}`;
  const diffIds = configDiffIds(spec.configBytes, configWhat);
  if (diffIds.length !== spec.layers.length) {
    throw new IntegrityError(
      'DIFF_IDS_MISMATCH',
      `${configWhat} lists ${diffIds.length} diff_ids but the image has ${spec.layers.length} ` +
        `layers`,
      { hint: 'the archive is damaged or was written by a broken tool' },
    );
  }
  const config = {
    digest: sha256Digest(spec.configBytes),
    size: spec.configBytes.length,
  };
  addBlob(contents, { ...config, source: { kind: 'bytes', bytes: spec.configBytes } });
  const layers = [];
  for (const [i, entry] of spec.layers.entries())
    layers.push(await describeLayer(archive, contents, entry, diffIds[i]!));
  // An OCI manifest, not a Docker one: skopeo's oci-archive reader finds only OCI manifests by
  // name, and the config's bytes (so the image ID) are the same either way.
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...config },
    layers: layers.map(({ descriptor, compression }) => ({
      mediaType: layerMediaType('oci', compression),
      ...descriptor,
    })),
  };
  addImage(contents, Buffer.from(JSON.stringify(manifest)), manifest.mediaType, spec.repoTags);
}

/** addImage records a manifest's bytes and names the image once per tag (or leaves it unnamed). */
export function addImage(
  contents: ArchiveContents,
  bytes: Uint8Array,
  mediaType: string,
  names: string[],
): void {
  const descriptor = { mediaType, digest: sha256Digest(bytes), size: bytes.length };
  addBlob(contents, { ...descriptor, source: { kind: 'bytes', bytes } });
  if (names.length === 0) contents.images.push({ descriptor });
  for (const name of names)
    contents.images.push({ name, reference: tryParseReference(name), descriptor });
}
