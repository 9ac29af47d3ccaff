import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { migrateStores } from '../../src/copy/migrate.js';
import { verifyStore } from '../../src/copy/verify.js';
import { openStore } from '../../src/stores/open-store.js';
import { corpusDir, hasCorpus, runRegtool, tempDir } from '../helpers/cli.js';
import { fixtureImages, serveRegistry, skopeoCopyAll } from '../s3/s3-helpers.js';

const EXPECTED = ['alpha', 'base', 'beta', 'empty-layer', 'links', 'multi'].map(
  (name) => `library/${name}:1.0`,
);

describe('the registry layout in a directory', () => {
  it('is served by the real registry, and skopeo copies every image', async () => {
    const root = await mkdtemp(join(tmpdir(), 'regtool-reglayout-'));
    const source = await openStore({ kind: 'dir', path: fixtureImages }, { mode: 'read' });
    const destination = await openStore(
      { kind: 'dir', path: root },
      { mode: 'write', layout: 'registry' },
    );
    const summary = await migrateStores(source, destination);
    await destination.close();
    expect(summary.counts.moved).toBe(EXPECTED.length);

    const hex = (await readdirDigest(root, 'library/base', '1.0')).slice('sha256:'.length);
    expect(hex).toMatch(/^[0-9a-f]{64}$/);

    const registry = await serveRegistry(['filesystem:', `  rootdirectory: ${root}`]);
    try {
      expect(await skopeoCopyAll(registry.host)).toEqual(EXPECTED);
    } finally {
      await registry.stop();
    }

    // Opened without --layout, the directory is recognized and reads back whole.
    const reread = await openStore({ kind: 'dir', path: root }, { mode: 'read' });
    expect((await verifyStore(reread)).problems).toEqual([]);
    expect((await verifyStore(reread)).images).toBe(EXPECTED.length);
  }, 60_000);
});

describe('regtool load --layout registry', () => {
  it('seeds a registry offline from an archive', async (context) => {
    if (!hasCorpus) return context.skip('the shared corpus is not here');
    const root = join(tempDir('regtool-seed-'), 'root');
    const archive = join(corpusDir, 'ggcr', 'test_bundle.tar');
    const loaded = await runRegtool([
      '-q',
      'load',
      '-i',
      archive,
      '--to',
      `dir:${root}`,
      '--layout',
      'registry',
    ]);
    expect(loaded.exitCode).toBe(0);
    const registry = await serveRegistry(['filesystem:', `  rootdirectory: ${root}`]);
    try {
      expect(await skopeoCopyAll(registry.host)).toEqual([
        'library/test_image_1:latest',
        'library/test_image_2:latest',
      ]);
    } finally {
      await registry.stop();
    }
  }, 60_000);
});

/** readdirDigest reads a tag's current link, which must be the bare digest, no newline. */
async function readdirDigest(root: string, repository: string, tag: string): Promise<string> {
  const link = join(
    root,
    'docker/registry/v2/repositories',
    repository,
    '_manifests/tags',
    tag,
    'current/link',
  );
  const text = await readFile(link, 'utf8');
  expect(text).toMatch(/^sha256:[0-9a-f]{64}$/);
  return text;
}
