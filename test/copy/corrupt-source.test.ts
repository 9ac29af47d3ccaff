/**
 * A copy hashes each blob once, as the source reads it; a destination takes the source's word
 * for it. So a blob whose bytes were changed at the source must still fail the copy (exit 5)
 * and leave nothing of itself at the destination.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { digestHex } from '../../src/core/digest.js';
import { parseReference } from '../../src/core/reference.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { copyWritable, projectRoot, runRegtool, tempDir } from '../helpers/cli.js';
import { startRegistry, type RegistryPeer } from '../peers/index.js';

const NAME = 'docker.io/library/alpha:1.0';

/** damagedLayout copies the fixture layout and flips one byte of alpha's first layer. */
async function damagedLayout(): Promise<{ dir: string; layer: string }> {
  const dir = copyWritable(join(projectRoot, 'fixtures/images'));
  const store = new LayoutStore(dir);
  const { bytes } = await store.getManifest('', await store.resolve(parseReference(NAME)));
  const layer = JSON.parse(Buffer.from(bytes).toString()).layers[0].digest as string;
  const path = join(dir, 'blobs/sha256', digestHex(layer));
  const data = readFileSync(path);
  data[data.length >> 1] ^= 0x01;
  writeFileSync(path, data);
  return { dir, layer };
}

describe('a blob changed at the source', () => {
  let registry: RegistryPeer;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
  });

  it('fails a copy into a directory, which keeps no trace of it', async () => {
    const { dir, layer } = await damagedLayout();
    const dest = join(tempDir(), 'store');
    const copied = await runRegtool(['copy', NAME, '--from', `dir:${dir}`, '--to', `dir:${dest}`]);
    expect(copied.stderr).toContain('DIGEST_MISMATCH');
    expect(copied.exitCode).toBe(5);
    expect(existsSync(join(dest, 'blobs/sha256', digestHex(layer)))).toBe(false);
    const temp = join(dest, '.regtool-tmp');
    expect(existsSync(temp) ? readdirSync(temp) : []).toEqual([]);
  });

  it('fails a push, and the registry never gets the blob', async () => {
    const { dir, layer } = await damagedLayout();
    const target = `registry://${registry.url}/damaged`;
    const pushed = await runRegtool(['push', NAME, '--from', `dir:${dir}`, '--to', target]);
    expect(pushed.stderr).toContain('DIGEST_MISMATCH');
    expect(pushed.exitCode).toBe(5);
    const answer = await fetch(`http://${registry.url}/v2/damaged/library/alpha/blobs/${layer}`, {
      method: 'HEAD',
    });
    expect(answer.status).toBe(404);
  });
});
