import { createReadStream, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { MediaType } from '../../src/core/media-types.js';
import { parseReference } from '../../src/core/reference.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';

/** A layout holding one image with a layer big enough that a copy takes a while. */
async function bigImageLayout(megabytes: number): Promise<string> {
  const dir = join(tempDir(), 'big');
  const file = join(tempDir(), 'layer.bin');
  const chunk = randomBytes(1 << 20);
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  for (let i = 0; i < megabytes; i += 1) {
    hash.update(chunk);
    parts.push(chunk);
  }
  writeFileSync(file, Buffer.concat(parts));
  const layer = {
    mediaType: MediaType.ociLayer,
    digest: `sha256:${hash.digest('hex')}`,
    size: megabytes << 20,
  };
  const config = Buffer.from(
    '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
  );
  const configDescriptor = {
    mediaType: MediaType.ociConfig,
    digest: sha256Digest(config),
    size: config.length,
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDescriptor,
      layers: [layer],
    }),
  );
  const manifestDescriptor = {
    mediaType: MediaType.ociManifest,
    digest: sha256Digest(manifest),
    size: manifest.length,
  };
  const store = new LayoutStore(dir);
  await store.putBlob('', layer, createReadStream(file));
  await store.putBlob('', configDescriptor, Readable.from([config]));
  await store.putManifest('', manifestDescriptor, manifest);
  await store.tag(parseReference('big:1'), manifestDescriptor);
  await store.close();
  return dir;
}

describe('Ctrl-C', () => {
  it('exits 130, leaves nothing half-written, and a re-run finishes the copy', async () => {
    const source = await bigImageLayout(400);
    const target = join(tempDir(), 'target');
    const copy = ['copy', 'big:1', '--from', `dir:${source}`, '--to', `dir:${target}`];
    const child = execa('node', [join(projectRoot, 'bin/regtool'), ...copy], {
      reject: false,
      env: { NO_COLOR: '1' },
    });
    for (let i = 0; i < 200 && !existsSync(join(target, '.regtool-tmp')); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(130);
    expect(String(result.stderr)).toContain('INTERRUPTED');
    const temp = join(target, '.regtool-tmp');
    expect(existsSync(temp) ? readdirSync(temp) : []).toEqual([]);
    const listed = await runRegtool(['--json', 'ls', `dir:${target}`]);
    expect(JSON.parse(listed.stdout).images).toEqual([]);
    const again = await runRegtool(['--json', ...copy]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((await runRegtool(['verify', `dir:${target}`])).exitCode).toBe(0);
  });
});
