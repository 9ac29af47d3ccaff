import { UnsupportedError, NotFoundError } from '../core/errors.js';
import { isIndexMediaType } from '../core/media-types.js';
import { formatPlatform, selectPlatformManifest, type PlatformSpec } from '../core/platform.js';
import type { Reference } from '../core/reference.js';
import type { Descriptor } from '../core/schemas.js';
import type { PlannedImage, Store } from '../core/store.js';
import { isManifestDescriptor, MAX_INDEX_DEPTH, walkManifests } from '../core/walk.js';
import { parseManifest } from '../core/manifest.js';

/** Which platforms of a multi-platform image to take. */
/**
 * Which platforms of a multi-platform image to copy: all of them, or one. `asked` marks a
 * platform the user named (`--platform`), rather than the host's by default: only then is a
 * name that points at the whole index narrowed to it.
 */
export type PlatformChoice =
  { kind: 'all' } | { kind: 'one'; platform: PlatformSpec; asked?: boolean };

/**
 * planImage reads every manifest and config under an image's root, narrowing an index to one
 * platform when asked, and lists the layers to move.
 */
export async function planImage(
  store: Store,
  reference: Reference,
  root: Descriptor,
  platforms: PlatformChoice,
): Promise<PlannedImage> {
  const repository = reference.repository;
  const fetch = (descriptor: Descriptor) => store.getManifest(repository, descriptor);
  let top = root;
  if (platforms.kind === 'one')
    top = await narrowToPlatform(store, reference, root, platforms.platform);
  const plan: PlannedImage = { reference, root: top, manifests: [], configs: [], layers: [] };
  const configs = new Map<string, Descriptor>();
  await walkManifests(top, fetch, ({ descriptor, parsed, depth }) => {
    if (depth === 0) plan.root = descriptor;
    if (parsed.kind === 'schema1') {
      throw new UnsupportedError(
        'SCHEMA1_UNSUPPORTED',
        `${reference} uses the Docker schema 1 manifest format`,
        {
          hint: 'schema 1 is deprecated; rebuild or re-push the image with a current tool',
        },
      );
    }
    plan.manifests.unshift({ descriptor, bytes: parsed.bytes });
    if (parsed.kind === 'index') {
      for (const entry of parsed.index.manifests) {
        if (!isManifestDescriptor(entry)) plan.layers.push(entry);
      }
      return;
    }
    configs.set(parsed.manifest.config.digest, parsed.manifest.config);
    plan.layers.push(...parsed.manifest.layers);
  });
  for (const config of configs.values()) {
    plan.configs.push({
      descriptor: config,
      bytes: await readSmallBlob(store, repository, config),
    });
  }
  return plan;
}

async function narrowToPlatform(
  store: Store,
  reference: Reference,
  root: Descriptor,
  platform: PlatformSpec,
): Promise<Descriptor> {
  const offered = new Set<string>();
  const chosen = await findPlatformImage(store, reference, root, platform, offered, []);
  if (chosen) return chosen;
  throw new NotFoundError(
    'PLATFORM_NOT_FOUND',
    `${reference} has no image for ${formatPlatform(platform)}`,
    {
      hint:
        `it offers ${[...offered].join(', ') || 'no platforms'}; choose one with --platform, ` +
        `or take all with --all-platforms`,
    },
  );
}

/**
 * findPlatformImage descends from a manifest to the image for a platform. An index may hold
 * other indexes without a platform of their own (index → index → images, as nerdctl and
 * Docker with the containerd store write): those are searched when no entry matches directly.
 */
async function findPlatformImage(
  store: Store,
  reference: Reference,
  descriptor: Descriptor,
  platform: PlatformSpec,
  offered: Set<string>,
  path: string[],
): Promise<Descriptor | undefined> {
  if (path.includes(descriptor.digest) || path.length > MAX_INDEX_DEPTH) return undefined;
  const { bytes, mediaType } = await store.getManifest(reference.repository, descriptor);
  const parsed = parseManifest(
    bytes,
    mediaType ?? descriptor.mediaType,
    `manifest of ${reference}`,
  );
  if (parsed.kind !== 'index') return descriptor;
  const entries = parsed.index.manifests;
  for (const entry of entries) if (entry.platform) offered.add(formatPlatform(entry.platform));
  const inner = [...path, descriptor.digest];
  const chosen = selectPlatformManifest(entries, platform);
  if (chosen) return findPlatformImage(store, reference, chosen, platform, offered, inner);
  for (const entry of entries) {
    if (entry.platform || !isIndexMediaType(entry.mediaType)) continue;
    const found = await findPlatformImage(store, reference, entry, platform, offered, inner);
    if (found) return found;
  }
  return undefined;
}

/** readSmallBlob reads a config (or other small blob) into memory, verified. */
export async function readSmallBlob(
  store: Store,
  repository: string,
  descriptor: Descriptor,
): Promise<Uint8Array> {
  const stream = await store.getBlob(repository, descriptor);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
