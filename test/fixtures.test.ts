import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const committed = join(root, 'fixtures', 'images');

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe('fixture images', () => {
  let regenerated: string;

  beforeAll(async () => {
    regenerated = await mkdtemp(join(tmpdir(), 'regtool-fixtures-'));
    await execa(process.execPath, [join(root, 'scripts', 'make-fixtures.mjs'), regenerated]);
  });

  afterAll(async () => {
    await rm(regenerated, { recursive: true, force: true });
  });

  it('match what scripts/make-fixtures.mjs writes, byte for byte', async () => {
    const files = await listFiles(committed);

    expect(await listFiles(regenerated)).toEqual(files);
    for (const file of files) {
      const [want, got] = await Promise.all([
        readFile(join(committed, file)),
        readFile(join(regenerated, file)),
      ]);
      expect(got.equals(want), `${file} differs; run npm run fixtures and commit`).toBe(true);
    }
  });

  it('store every blob under its own sha256', async () => {
    const blobDir = join(committed, 'blobs', 'sha256');

    for (const name of await readdir(blobDir)) {
      const bytes = await readFile(join(blobDir, name));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(name);
    }
  });

  it('name six images in index.json', async () => {
    const index = JSON.parse(await readFile(join(committed, 'index.json'), 'utf8')) as {
      manifests: { annotations: Record<string, string> }[];
    };
    const names = index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']);

    expect(names).toEqual([
      'docker.io/library/base:1.0',
      'docker.io/library/alpha:1.0',
      'docker.io/library/beta:1.0',
      'docker.io/library/multi:1.0',
      'docker.io/library/empty-layer:1.0',
      'docker.io/library/links:1.0',
    ]);
  });
});
