import { join } from 'node:path';
import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { NotFoundError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/media-types.js';
import { parseReference } from '../../src/core/reference.js';
import type { Descriptor, Platform } from '../../src/core/schemas.js';
import { planImage } from '../../src/copy/plan.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { tempDir } from '../helpers/cli.js';

async function put(store: LayoutStore, mediaType: string, body: unknown, platform?: Platform) {
  const bytes = Buffer.from(JSON.stringify(body));
  const descriptor: Descriptor = { mediaType, digest: sha256Digest(bytes), size: bytes.length };
  await store.putBlob('', descriptor, Readable.from([bytes]));
  return platform ? { ...descriptor, platform } : descriptor;
}

async function imageFor(store: LayoutStore, architecture: string) {
  const config = await put(store, MediaType.ociConfig, {
    architecture,
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [] },
  });
  return put(
    store,
    MediaType.ociManifest,
    { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [] },
    { os: 'linux', architecture },
  );
}

describe('planImage with --platform', () => {
  it('finds the image through an index of indexes without platforms', async () => {
    const store = new LayoutStore(join(tempDir(), 'layout'));
    const amd64 = await imageFor(store, 'amd64');
    const arm64 = await imageFor(store, 'arm64');
    const inner = await put(store, MediaType.ociIndex, {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [amd64, arm64],
    });
    const outer = await put(store, MediaType.ociIndex, {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [inner],
    });
    const reference = parseReference('nested:1');
    const plan = await planImage(store, reference, outer, {
      kind: 'one',
      platform: { os: 'linux', architecture: 'arm64' },
    });
    expect(plan.root.digest).toBe(arm64.digest);
    expect(plan.manifests).toHaveLength(1);
    await expect(
      planImage(store, reference, outer, {
        kind: 'one',
        platform: { os: 'linux', architecture: 's390x' },
      }),
    ).rejects.toSatisfy(
      (error) =>
        error instanceof NotFoundError && /linux\/amd64, linux\/arm64/.test(error.hint ?? ''),
    );
  });

  it('keeps the whole tree with all platforms', async () => {
    const store = new LayoutStore(join(tempDir(), 'layout'));
    const amd64 = await imageFor(store, 'amd64');
    const index = await put(store, MediaType.ociIndex, {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [amd64],
    });
    const plan = await planImage(store, parseReference('all:1'), index, { kind: 'all' });
    expect(plan.root.digest).toBe(index.digest);
    expect(plan.manifests.map((m) => m.descriptor.digest)).toEqual([amd64.digest, index.digest]);
    expect(plan.configs).toHaveLength(1);
  });
});
