import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { verifyStore } from '../../src/copy/verify.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import { tempDir } from '../helpers/cli.js';
import { makeConfig, makeTar, writeTemp } from './build.js';
import { loadInto } from './helpers.js';
import { sha256Digest } from '../../src/core/digest.js';

/** A docker archive of one image with three layers, each too large to be kept in memory. */
function largeLayers() {
  const layers = [0, 1, 2].map((i) =>
    makeTar([{ path: `file${i}.bin`, data: randomBytes((2 << 20) + i) }]),
  );
  const config = makeConfig(layers.map((layer) => sha256Digest(layer)));
  const manifest = [
    { Config: 'c.json', RepoTags: ['large:1'], Layers: layers.map((_, i) => `${i}/layer.tar`) },
  ];
  return makeTar([
    { path: 'manifest.json', data: JSON.stringify(manifest) },
    { path: 'c.json', data: config },
    ...layers.map((data, i) => ({ path: `${i}/layer.tar`, data })),
  ]);
}

describe('reading archives', () => {
  it('reads large layers of a gzip or zstd archive, in any order and at once', async () => {
    const tar = largeLayers();
    const gz = writeTemp('large.tar.gz', gzipSync(tar, { level: 1 }));
    const plain = writeTemp('large.tar', tar);
    await execa('zstd', ['-q', '-1', plain, '-o', `${plain}.zst`]);
    for (const path of [gz, `${plain}.zst`]) {
      const { layout } = await loadInto(path);
      const report = await verifyStore(layout);
      expect(report.problems).toEqual([]);
      expect(report.blobs).toBe(4);
    }
  });

  it('reads an archive from a stream in one pass', async () => {
    const tar = largeLayers();
    const reader = await ArchiveReader.open(createReadStream(writeTemp('s.tar.gz', gzipSync(tar))));
    expect(reader.location).toBe('archive:-');
    expect(reader.images.map((image) => image.name)).toEqual(['large:1']);
    await reader.close();
  });
});

describe('long names', () => {
  it.each(['gnu', 'pax'])(
    'reads a %s tar whose layer paths pass 100 characters',
    async (format) => {
      const dir = tempDir();
      const long = `${'d'.repeat(120)}/layer.tar`;
      const layer = makeTar([{ path: 'f.txt', data: 'x' }]);
      const config = makeConfig([sha256Digest(layer)]);
      mkdirSync(join(dir, 'd'.repeat(120)));
      writeFileSync(join(dir, long), layer);
      writeFileSync(join(dir, 'c.json'), config);
      const manifest = [{ Config: 'c.json', RepoTags: ['long:1'], Layers: [long] }];
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const out = join(tempDir(), 'long.tar');
      await execa('tar', [
        `--format=${format}`,
        '-cf',
        out,
        '-C',
        dir,
        'manifest.json',
        'c.json',
        long,
      ]);
      const { layout } = await loadInto(out);
      expect((await verifyStore(layout)).problems).toEqual([]);
    },
  );
});
