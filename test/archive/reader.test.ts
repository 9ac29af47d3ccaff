import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { gzipSync } from 'node:zlib';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { verifyStore } from '../../src/copy/verify.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
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

  it('reads an archive from a stream, spooling it first', async () => {
    const tar = largeLayers();
    const reader = await ArchiveReader.open(createReadStream(writeTemp('s.tar.gz', gzipSync(tar))));
    expect(reader.location).toBe('archive:-');
    expect(reader.images.map((image) => image.name)).toEqual(['large:1']);
    await reader.close();
  });
});
