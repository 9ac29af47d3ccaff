/** A load removes the spool folders that loads killed outright left, once they are an hour old. */
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { tempDir } from '../helpers/cli.js';
import { makeConfig, makeTar, writeTemp } from './build.js';
import { loadInto } from './helpers.js';

/** A docker save (manifest.json last) whose 2 MiB layer arrives before anyone asks for it. */
function layerFirstArchive(): string {
  const layer = makeTar([{ path: 'data.bin', data: randomBytes(2 << 20) }]);
  const config = makeConfig([sha256Digest(layer)]);
  const hex = sha256Digest(config).slice(7);
  const manifest = [{ Config: `${hex}.json`, RepoTags: ['spooled:1'], Layers: ['l/layer.tar'] }];
  return writeTemp(
    'layer-first.tar',
    makeTar([
      { path: 'l/layer.tar', data: layer },
      { path: `${hex}.json`, data: config },
      { path: 'manifest.json', data: JSON.stringify(manifest) },
    ]),
  );
}

/** leftSpool makes a spool folder with one file, last changed `ageMs` ago. */
function leftSpool(parent: string, name: string, ageMs: number): void {
  const folder = join(parent, name);
  mkdirSync(folder);
  writeFileSync(join(folder, 'entry-1'), 'left');
  const when = new Date(Date.now() - ageMs);
  utimesSync(folder, when, when);
}

describe('spool folders left by killed loads', () => {
  it('are removed when an hour old, and a recent one is left to its load', async () => {
    const spoolDir = tempDir();
    leftSpool(spoolDir, '.regtool-spool-killed', 2 * 60 * 60 * 1000);
    leftSpool(spoolDir, '.regtool-spool-live', 60 * 1000);

    const { reader } = await loadInto(createReadStream(layerFirstArchive()), undefined, {
      spoolDir,
    });

    expect(reader.spooledBytes).toBeGreaterThan(2 << 20);
    expect(readdirSync(spoolDir)).toEqual(['.regtool-spool-live']);
  });
});
