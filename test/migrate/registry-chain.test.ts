import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrateStores } from '../../src/copy/migrate.js';
import type { StoreAddress } from '../../src/core/store-address.js';
import { openStore } from '../../src/stores/open-store.js';
import { fixtureImages, serveRegistry, type ServedRegistry } from '../s3/s3-helpers.js';

/** Every image of a store as `repository-path:tag digest`, whatever host it names. */
async function listing(address: StoreAddress): Promise<string[]> {
  const store = await openStore(address, { mode: 'read' });
  const rows: string[] = [];
  for await (const image of store.listImages()) {
    rows.push(`${image.reference?.path}:${image.reference?.tag} ${image.descriptor.digest}`);
  }
  return rows.sort();
}

async function migrate(from: StoreAddress, to: StoreAddress): Promise<void> {
  const source = await openStore(from, { mode: 'read' });
  const destination = await openStore(to, { mode: 'write' });
  const summary = await migrateStores(source, destination);
  await destination.close();
  await source.close();
  expect(summary.images.filter((image) => image.status === 'failed')).toEqual([]);
  expect(summary.counts.moved).toBe(summary.counts.selected);
}

const registryAt = (served: ServedRegistry): StoreAddress => ({
  kind: 'registry',
  host: served.host,
  prefix: '',
});

describe('migrate registry → registry → archive → dir → a third registry', () => {
  const registries: ServedRegistry[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i += 1) {
      const root = await mkdtemp(join(tmpdir(), 'regtool-chain-'));
      registries.push(await serveRegistry(['filesystem:', `  rootdirectory: ${root}`]));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(registries.map((registry) => registry.stop()));
  });

  it('keeps every manifest digest', async () => {
    const [first, second, third] = registries.map(registryAt) as [
      StoreAddress,
      StoreAddress,
      StoreAddress,
    ];
    const work = await mkdtemp(join(tmpdir(), 'regtool-chain-work-'));
    const archive: StoreAddress = { kind: 'archive', path: join(work, 'images.tar') };
    const dir: StoreAddress = { kind: 'dir', path: join(work, 'layout') };

    await migrate({ kind: 'dir', path: fixtureImages }, first);
    const expected = await listing(first);
    expect(expected).toHaveLength(6);

    await migrate(first, second);
    expect(await listing(second)).toEqual(expected);
    await migrate(second, archive);
    expect(await listing(archive)).toEqual(expected);
    await migrate(archive, dir);
    expect(await listing(dir)).toEqual(expected);
    await migrate(dir, third);
    expect(await listing(third)).toEqual(expected);
  }, 120_000);
});
