import { UnsupportedError, NotFoundError } from '../core/errors.js';
import { formatPlatform, selectPlatformManifest, type PlatformSpec } from '../core/platform.js';
import type { Reference } from '../core/reference.js';
import type { Descriptor } from '../core/schemas.js';
import type { PlannedImage, Store } from '../core/store.js';
import { isManifestDescriptor, walkManifests } from '../core/walk.js';
import { parseManifest } from '../core/manifest.js';

/** Which platforms of a multi-platform image to take. */
export type PlatformChoice = { kind: 'all' } | { kind: 'one'; platform: PlatformSpec };

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
  const { bytes, mediaType } = await store.getManifest(reference.repository, root);
  const parsed = parseManifest(bytes, mediaType ?? root.mediaType, `manifest of ${reference}`);
  if (parsed.kind !== 'index') return root;
  const chosen = selectPlatformManifest(parsed.index.manifests, platform);
  if (!chosen) {
    const offered = parsed.index.manifests
      .filter((entry) => entry.platform)
      .map((entry) => formatPlatform(entry.platform!))
      .join(', ');
    throw new NotFoundError(
      'PLATFORM_NOT_FOUND',
      `${reference} has no image for ${formatPlatform(platform)}`,
      {
        hint: `it offers ${offered || 'no platforms'}; choose one with --platform, or take all with --all-platforms`,
      },
    );
  }
  return narrowToPlatform(store, reference, chosen, platform);
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
