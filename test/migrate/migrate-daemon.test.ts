import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { migrateStores } from '../../src/copy/migrate.js';
import { planImage } from '../../src/copy/plan.js';
import type { StoreAddress } from '../../src/core/store-address.js';
import type { Store } from '../../src/core/store.js';
import { openStore } from '../../src/stores/open-store.js';
import { startPodmanService, type PodmanPeer } from '../peers/index.js';
import { fixtureImages } from '../s3/s3-helpers.js';

const INCLUDE = ['alpha:*', 'beta:*'];

/** Each image's config digests by name: a daemon re-serializes manifests, not configs. */
async function configsByName(store: Store): Promise<Record<string, string[]>> {
  const configs: Record<string, string[]> = {};
  for await (const image of store.listImages()) {
    const name = image.reference?.familiar();
    if (name === undefined || !['alpha:1.0', 'beta:1.0'].includes(name)) continue;
    const plan = await planImage(store, image.reference!, image.descriptor, { kind: 'all' });
    configs[name] = plan.configs.map((config) => config.descriptor.digest).sort();
  }
  return configs;
}

describe('migrate through a Docker-compatible daemon (podman)', () => {
  let podman: PodmanPeer;

  beforeAll(async () => {
    podman = await startPodmanService();
  }, 120_000);

  it('dir → daemon → dir keeps every image config', async () => {
    const env = { ...process.env, DOCKER_HOST: podman.dockerHost };
    const daemon: StoreAddress = { kind: 'daemon' };
    const fixtures = await openStore({ kind: 'dir', path: fixtureImages }, { mode: 'read' });
    const into = await openStore(daemon, { mode: 'write', env });
    const loaded = await migrateStores(fixtures, into, { include: INCLUDE });
    await into.close();
    expect(loaded.counts.moved).toBe(2);

    const back = join(await mkdtemp(join(tmpdir(), 'regtool-daemon-back-')), 'layout');
    const out = await openStore({ kind: 'dir', path: back }, { mode: 'write' });
    const saved = await migrateStores(await openStore(daemon, { mode: 'read', env }), out, {
      include: INCLUDE,
    });
    await out.close();
    expect(saved.counts.moved).toBe(2);

    const copied = await openStore({ kind: 'dir', path: back }, { mode: 'read' });
    expect(await configsByName(copied)).toEqual(await configsByName(fixtures));
  }, 120_000);
});
