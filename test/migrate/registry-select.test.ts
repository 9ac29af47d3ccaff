/**
 * A migrate from a registry with --include lists the tags of only the repositories the globs can
 * match and looks up only the images they select, so a re-run with nothing to do costs a few
 * requests, however much else the registry holds.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { minimatch } from 'minimatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mayMatchRepository } from '../../src/copy/migrate-select.js';
import { migrateStores, type MigrateOptions } from '../../src/copy/migrate.js';
import type { StoreAddress } from '../../src/core/store-address.js';
import { openStore } from '../../src/stores/open-store.js';
import {
  countingProxy,
  fixtureImages,
  serveRegistry,
  type CountingProxy,
  type ServedRegistry,
} from '../s3/s3-helpers.js';

async function migrate(from: StoreAddress, to: StoreAddress, options: MigrateOptions = {}) {
  const source = await openStore(from, { mode: 'read' });
  const destination = await openStore(to, { mode: 'write' });
  try {
    const summary = await migrateStores(source, destination, options);
    await destination.close();
    return summary;
  } finally {
    await source.close();
  }
}

describe('mayMatchRepository', () => {
  const repositories = ['busybox', 'library/busybox', 'bench/app1', 'bench/w4', 'a/b/c', 'app'];
  const tags = ['latest', '1.0', 'v2-rc.1'];
  const patterns = [
    'busybox',
    'busybox:*',
    'busy*',
    '*box:1.*',
    'library/*',
    'library/busybox:latest',
    'bench/app*',
    'bench/*:1.0',
    '*/app?',
    'a/*/c:*',
    'a/b/*',
    '*',
    '*:latest',
    '?pp:*',
    '[ab]pp*',
    'app',
    'app:v2*',
    'x*',
    'library//busybox:*',
    'bench//app*',
    'a/b/../b/c:*',
    './busybox:*',
    'x/../app:*',
  ];

  it('never rules out a repository that has a matching name', () => {
    for (const repository of repositories)
      for (const pattern of patterns) {
        const matches = tags.some((tag) => minimatch(`${repository}:${tag}`, pattern));
        if (matches)
          expect([repository, pattern, mayMatchRepository(repository, pattern)]).toEqual([
            repository,
            pattern,
            true,
          ]);
      }
  });

  it('rules out what plainly cannot match', () => {
    expect(mayMatchRepository('bench/w4', 'bench/app*')).toBe(false);
    expect(mayMatchRepository('noop/bench/app1', 'bench/app*')).toBe(false);
    expect(mayMatchRepository('busybox', 'alpine:*')).toBe(false);
    expect(mayMatchRepository('busybox', 'busybox')).toBe(false);
  });
});

describe('migrate from a registry with --include', () => {
  let registry: ServedRegistry;
  let proxy: CountingProxy;
  let source: StoreAddress;

  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'regtool-select-'));
    registry = await serveRegistry(['filesystem:', `  rootdirectory: ${root}`]);
    const to: StoreAddress = { kind: 'registry', host: registry.host, prefix: '' };
    const seeded = await migrate({ kind: 'dir', path: fixtureImages }, to);
    expect(seeded.counts.moved).toBe(6);
    proxy = await countingProxy(`http://${registry.host}`);
    source = { kind: 'registry', host: new URL(proxy.endpoint).host, prefix: '' };
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  it('lists and looks up only what the globs can select, and a re-run costs a constant', async () => {
    const dir: StoreAddress = {
      kind: 'dir',
      path: join(await mkdtemp(join(tmpdir(), 'regtool-select-dir-')), 'store'),
    };
    const first = await migrate(source, dir, { include: ['library/alpha:*'] });
    expect(first.counts.moved).toBe(1);
    const tagLists = proxy.requests.filter((line) => line.includes('/tags/list'));
    expect(tagLists).toHaveLength(1);
    expect(tagLists[0]).toMatch(/^GET \/v2\/library\/alpha\/tags\/list\b/);
    const manifests = proxy.requests.filter((line) => line.includes('/manifests/'));
    expect(manifests.every((line) => line.includes('/library/alpha/'))).toBe(true);

    proxy.requests.length = 0;
    const again = await migrate(source, dir, { include: ['library/alpha:*'] });
    expect(again.counts['up-to-date']).toBe(1);
    // The catalog, alpha's tag list and one manifest lookup.
    expect(proxy.requests).toHaveLength(3);
  });

  it('still selects by digest, and counts what the names leave out', async () => {
    const dir: StoreAddress = {
      kind: 'dir',
      path: join(await mkdtemp(join(tmpdir(), 'regtool-select-dir-')), 'store'),
    };
    const all = await migrate(source, dir, { dryRun: true });
    const alpha = all.images.find((image) => image.name.endsWith('/alpha:1.0'))!;
    const byDigest = await migrate(source, dir, { include: [`@${alpha.digest}`], dryRun: true });
    expect(byDigest.images.map((image) => image.name)).toEqual([alpha.name]);
    expect(byDigest.counts.excluded).toBe(5);
    const excluded = await migrate(source, dir, { exclude: ['library/alpha:*'], dryRun: true });
    expect(excluded.counts.selected).toBe(5);
    expect(excluded.counts.excluded).toBe(1);
  });
});
