import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { CopyEvent } from '../../src/copy/events.js';
import { migrateStores } from '../../src/copy/migrate.js';
import { selectImages } from '../../src/copy/migrate-select.js';
import { verifyStore } from '../../src/copy/verify.js';
import type { Store } from '../../src/core/store.js';
import { openStore } from '../../src/stores/open-store.js';
import { fixtureImages, projectRoot } from '../s3/s3-helpers.js';

const corpusRepo = resolve(projectRoot, '..', 'shared', 'corpus', 'regclient', 'testrepo');

function openDir(path: string, mode: 'read' | 'write', layout?: 'registry'): Promise<Store> {
  return openStore({ kind: 'dir', path }, { mode, layout });
}

async function freshDir(stem: string): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), `regtool-${stem}-`)), 'store');
}

/** The index.json entries as `name digest`, unnamed ones as `- digest`. */
async function indexEntries(layout: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  return index.manifests
    .map((m) => `${m.annotations?.['org.opencontainers.image.ref.name'] ?? '-'} ${m.digest}`)
    .sort();
}

describe('selectImages', () => {
  it('matches --include and --exclude globs on full, familiar and path names', async () => {
    const store = await openDir(fixtureImages, 'read');
    const labels = async (include: string[], exclude: string[] = []) =>
      (await selectImages(store, include, exclude)).selected.map((e) => e.reference?.familiar());

    expect(await labels(['alpha:*'])).toEqual(['alpha:1.0']);
    expect(await labels(['docker.io/library/multi:1.0'])).toEqual(['multi:1.0']);
    expect((await labels([], ['library/b*'])).sort()).toEqual([
      'alpha:1.0',
      'empty-layer:1.0',
      'links:1.0',
      'multi:1.0',
    ]);
    const none = await selectImages(store, ['nothing:*']);
    expect(none.selected).toEqual([]);
    expect(none.excluded).toBe(6);
  });
});

describe('migrateStores between directories', () => {
  it('plans with --dry-run, moving nothing', async () => {
    const target = await freshDir('dry');
    const summary = await migrateStores(
      await openDir(fixtureImages, 'read'),
      await openDir(target, 'write'),
      { dryRun: true },
    );
    expect(summary.counts['to-move']).toBe(6);
    expect(summary.blobsMoved).toBeGreaterThan(0);
    expect(summary.bytesMoved).toBeGreaterThan(0);
    expect(existsSync(target)).toBe(false);
  });

  it('keeps raw layout names and unnamed entries between OCI layouts', async (context) => {
    if (!existsSync(corpusRepo)) return context.skip('the shared corpus is not here');
    const target = await freshDir('layout');
    const destination = await openDir(target, 'write');
    const summary = await migrateStores(await openDir(corpusRepo, 'read'), destination);
    await destination.close();
    expect(summary.counts.failed).toBe(0);
    expect(summary.counts['not-held']).toBe(0);
    expect(await indexEntries(target)).toEqual(await indexEntries(corpusRepo));
    expect((await verifyStore(await openDir(target, 'read'))).problems).toEqual([]);

    const again = await migrateStores(
      await openDir(corpusRepo, 'read'),
      await openDir(target, 'write'),
    );
    expect(again.counts['up-to-date']).toBe(again.counts.selected);
  });

  it('reports unnamed entries that a registry layout cannot hold', async (context) => {
    if (!existsSync(corpusRepo)) return context.skip('the shared corpus is not here');
    const events: CopyEvent[] = [];
    const destination = await openDir(await freshDir('reg'), 'write', 'registry');
    const summary = await migrateStores(await openDir(corpusRepo, 'read'), destination, {
      onEvent: (event) => events.push(event),
    });
    await destination.close();
    const unnamed = (await indexEntries(corpusRepo)).filter((entry) => entry.startsWith('- '));
    expect(unnamed.length).toBeGreaterThan(0);
    expect(summary.counts['not-held']).toBe(unnamed.length);
    const warnings = events.filter((event) => event.type === 'warning');
    expect(warnings).toHaveLength(unnamed.length);
    expect(summary.counts.moved).toBe(summary.counts.selected - unnamed.length);
  });
});
