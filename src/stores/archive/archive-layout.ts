import { digestHex } from '../../core/digest.js';
import { isAttestation, parseManifest, type ParsedManifest } from '../../core/manifest.js';
import { MediaType } from '../../core/media-types.js';
import { hostPlatform, selectPlatformManifest } from '../../core/platform.js';
import type { Descriptor } from '../../core/schemas.js';
import type { PlannedImage } from '../../core/store.js';
import { MAX_INDEX_DEPTH } from '../../core/walk.js';
import { CONTAINERD_NAME, REF_NAME } from './oci-flavour.js';

/** The files an archive regtool writes holds, before its layers. */
export interface ArchiveLayout {
  /** oci-layout, index.json, manifest.json and repositories. */
  files: Array<{ path: string; bytes: Uint8Array }>;
  /** Manifests and configs, each once, sorted by digest. */
  smallBlobs: Array<{ digest: string; bytes: Uint8Array }>;
  /** Every other blob, each once, in the order images first use it. */
  layers: Descriptor[];
}

/** blobPath is where a blob lives in the archive: `blobs/sha256/<hex>`. */
export function blobPath(digest: string): string {
  return `blobs/${digest.split(':')[0]}/${digestHex(digest)}`;
}

function json(value: unknown): Uint8Array {
  return Buffer.from(`${JSON.stringify(value)}\n`);
}

function indexEntry(plan: PlannedImage): Descriptor {
  const { mediaType, digest, size, platform, artifactType } = plan.root;
  const entry: Descriptor = { mediaType, digest, size };
  if (platform) entry.platform = platform;
  if (artifactType) entry.artifactType = artifactType;
  if (plan.reference.tag !== undefined) {
    const name = plan.reference.toString();
    entry.annotations = { [CONTAINERD_NAME]: name, [REF_NAME]: name };
  }
  return entry;
}

/**
 * dockerImageOf picks the image manifest manifest.json lists for a plan: the root itself, or
 * for an index the host platform's image (else the first image that is not an attestation).
 */
function dockerImageOf(plan: PlannedImage): Extract<ParsedManifest, { kind: 'image' }> | undefined {
  const parsed = new Map(
    plan.manifests.map(({ descriptor, bytes }) => [
      descriptor.digest,
      parseManifest(bytes, descriptor.mediaType),
    ]),
  );
  let current = parsed.get(plan.root.digest);
  for (let depth = 0; current?.kind === 'index' && depth < MAX_INDEX_DEPTH; depth += 1) {
    const entries = current.index.manifests.filter((entry) => parsed.has(entry.digest));
    const chosen =
      selectPlatformManifest(entries, hostPlatform()) ??
      entries.find((entry) => !isAttestation(entry));
    current = chosen ? parsed.get(chosen.digest) : undefined;
  }
  if (current?.kind !== 'image') return undefined;
  const configType = current.manifest.config.mediaType;
  return configType === MediaType.dockerConfig || configType === MediaType.ociConfig
    ? current
    : undefined;
}

/** dockerManifest writes manifest.json: one entry per image, names of the same image merged. */
function dockerManifest(plans: PlannedImage[]): {
  manifest: unknown[];
  repositories: Record<string, Record<string, string>>;
} {
  const entries = new Map<string, { Config: string; RepoTags: string[]; Layers: string[] }>();
  const repositories: Record<string, Record<string, string>> = {};
  for (const plan of plans) {
    const image = dockerImageOf(plan);
    if (!image) continue;
    const { config, layers } = image.manifest;
    const key = `${config.digest} ${layers.map((layer) => layer.digest).join(' ')}`;
    let entry = entries.get(key);
    if (!entry) {
      entry = {
        Config: blobPath(config.digest),
        RepoTags: [],
        Layers: layers.map((layer) => blobPath(layer.digest)),
      };
      entries.set(key, entry);
    }
    const { reference } = plan;
    if (reference.tag === undefined) continue;
    const name = reference.toString();
    if (!entry.RepoTags.includes(name)) entry.RepoTags.push(name);
    const repository = reference.repository;
    repositories[repository] = {
      ...repositories[repository],
      [reference.tag]: digestHex(config.digest),
    };
  }
  return { manifest: [...entries.values()], repositories };
}

/**
 * planArchiveLayout lays out the archive regtool writes for a set of images: at once an OCI
 * image layout (oci-layout, index.json naming each image fully, blobs/sha256) and a Docker
 * archive (manifest.json and repositories pointing into blobs/), every blob once.
 */
export function planArchiveLayout(plans: PlannedImage[]): ArchiveLayout {
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: plans.map(indexEntry),
  };
  const { manifest, repositories } = dockerManifest(plans);
  const small = new Map<string, Uint8Array>();
  for (const plan of plans) {
    for (const { descriptor, bytes } of [...plan.manifests, ...plan.configs])
      small.set(descriptor.digest, bytes);
  }
  const layers = new Map<string, Descriptor>();
  for (const plan of plans) {
    for (const layer of plan.layers)
      if (!small.has(layer.digest) && !layers.has(layer.digest)) layers.set(layer.digest, layer);
  }
  return {
    files: [
      { path: 'oci-layout', bytes: json({ imageLayoutVersion: '1.0.0' }) },
      { path: 'index.json', bytes: json(index) },
      { path: 'manifest.json', bytes: json(manifest) },
      { path: 'repositories', bytes: json(repositories) },
    ],
    smallBlobs: [...small.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([digest, bytes]) => ({ digest, bytes })),
    layers: [...layers.values()],
  };
}
