import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { RegtoolError } from '../../src/core/errors.js';
import { copyImages } from '../../src/copy/copy-images.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { tempDir } from '../helpers/cli.js';
import { makeConfig, makeLayer, makeTar, twoImageDockerArchive, writeTemp } from './build.js';
import { blobCount, requestsFor } from './helpers.js';

async function openError(path: string, env?: NodeJS.ProcessEnv): Promise<RegtoolError> {
  const error = await ArchiveReader.open(path, { env }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RegtoolError);
  return error as RegtoolError;
}

describe('archives that try to escape or explode', () => {
  it.each([
    ['../evil', 'a path with ..'],
    ['/etc/evil', 'an absolute path'],
    ['ok/../../evil', 'a path that climbs out'],
  ])('refuses an entry at %s (%s)', async (path) => {
    const { tar } = twoImageDockerArchive();
    const evil = Buffer.concat([makeTar([{ path, data: 'x' }]).subarray(0, 1024), tar]);
    const error = await openError(writeTemp('evil.tar', evil));
    expect(error.code).toBe('ARCHIVE_UNSAFE_PATH');
    expect(error.exitCode).toBe(5);
  });

  it('refuses a manifest path that climbs out', async () => {
    const a = makeLayer({ 'a.txt': 'a' });
    const tar = makeTar([
      {
        path: 'manifest.json',
        data: JSON.stringify([{ Config: '../c.json', RepoTags: ['x:1'], Layers: ['a.tar'] }]),
      },
      { path: 'c.json', data: makeConfig([a.diffId]) },
      { path: 'a.tar', data: a.tar },
    ]);
    expect((await openError(writeTemp('climb.tar', tar))).code).toBe('ARCHIVE_UNSAFE_PATH');
  });

  it('stops a compressed archive that inflates past the bound', async () => {
    const bomb = gzipSync(makeTar([{ path: 'zeros', data: Buffer.alloc(8 << 20) }]));
    const error = await openError(writeTemp('bomb.tar.gz', bomb), {
      REGTOOL_MAX_UNCOMPRESSED: String(1 << 20),
    });
    expect(error.code).toBe('ARCHIVE_TOO_LARGE');
  });

  it('stops a compressed layer that inflates past the bound, leaving the store as it was', async () => {
    const zeros = makeTar([{ path: 'zeros', data: Buffer.alloc(4 << 20) }]);
    const layer = { tar: zeros, gz: gzipSync(zeros) };
    const { createHash } = await import('node:crypto');
    const diffId = `sha256:${createHash('sha256').update(zeros).digest('hex')}`;
    const tar = makeTar([
      {
        path: 'manifest.json',
        data: JSON.stringify([{ Config: 'c.json', RepoTags: ['bomb:1'], Layers: ['l.tar.gz'] }]),
      },
      { path: 'c.json', data: makeConfig([diffId]) },
      { path: 'l.tar.gz', data: layer.gz },
    ]);
    const reader = await ArchiveReader.open(writeTemp('layer-bomb.tar', tar), {
      env: { REGTOOL_MAX_UNCOMPRESSED: String(1 << 20) },
    });
    const dir = join(tempDir(), 'store');
    const layout = new LayoutStore(dir);
    const error = await copyImages(reader, layout, requestsFor(reader)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    await layout.abort();
    await reader.close();
    expect((error as RegtoolError).code).toBe('ARCHIVE_TOO_LARGE');
    expect(blobCount(dir)).toBe(0);
  });
});

describe('damaged archives', () => {
  it.each([
    ['truncated', (gz: Buffer) => gz.subarray(0, Math.floor(gz.length / 2))],
    ['garbled', (gz: Buffer) => Buffer.concat([gz.subarray(0, 40), Buffer.alloc(2000, 0x55)])],
  ])('a %s gzip archive is an integrity error', async (_kind, damage) => {
    const gz = gzipSync(twoImageDockerArchive().tar);
    const error = await openError(writeTemp('damaged.tar.gz', damage(gz)));
    expect(['ARCHIVE_CORRUPT', 'ARCHIVE_TRUNCATED']).toContain(error.code);
    expect(error.exitCode).toBe(5);
  });
});
