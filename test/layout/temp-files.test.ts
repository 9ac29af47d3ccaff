import { cpSync, existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { MediaType } from '../../src/core/media-types.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';

/** A layout with two files a killed writer left in its temporary folder, one of them old. */
function layoutWithLeftovers() {
  const dir = join(tempDir(), 'store');
  cpSync(join(projectRoot, 'fixtures/images'), dir, { recursive: true });
  const temp = join(dir, '.regtool-tmp');
  mkdirSync(temp, { recursive: true });
  const old = join(temp, `${'a'.repeat(64)}.0123456789ab`);
  const recent = join(temp, `${'b'.repeat(64)}.0123456789ab`);
  writeFileSync(old, 'partial');
  writeFileSync(recent, 'partial');
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  utimesSync(old, twoHoursAgo, twoHoursAgo);
  return { dir, old, recent };
}

describe('temporary files a killed writer left', () => {
  it('are counted and removed by prune', async () => {
    const { dir, old, recent } = layoutWithLeftovers();
    const json = await runRegtool(['--json', 'prune', `dir:${dir}`]);
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ blobs: 0, tempFiles: 2 });
    expect(existsSync(old) || existsSync(recent)).toBe(false);
    const again = layoutWithLeftovers();
    const human = await runRegtool(['prune', `dir:${again.dir}`]);
    expect(human.stdout).toContain('2 temporary files');
  });

  it('are not looked for in a folder that does not exist: prune says so', async () => {
    const missing = await runRegtool(['prune', `dir:${join(tempDir(), 'nowhere')}`]);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain('STORE_NOT_FOUND');
  });

  it('are removed when an hour old as the store is written, and recent ones are kept', async () => {
    const { dir, old, recent } = layoutWithLeftovers();
    const store = new LayoutStore(dir);
    const bytes = Buffer.from('new blob');
    const descriptor = {
      mediaType: MediaType.ociLayer,
      digest: sha256Digest(bytes),
      size: bytes.length,
    };
    await store.putBlob('', descriptor, Readable.from([bytes]));
    await store.close();
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
  });
});
