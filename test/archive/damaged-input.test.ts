/** Damaged or foreign input is reported as what it is, with a hint, never as a regtool bug. */
import { mkdirSync, writeFileSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { copyImages } from '../../src/copy/copy-images.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { tempDir } from '../helpers/cli.js';
import { makeConfig, makeTar, twoImageDockerArchive, writeTemp } from './build.js';
import { requestsFor } from './helpers.js';

/** openError opens a file (or, with stdin, streams it) and returns the error it fails with. */
async function openError(path: string, stdin = false): Promise<Record<string, unknown>> {
  try {
    const reader = await ArchiveReader.open(stdin ? createReadStream(path) : path);
    await reader.close();
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error(`${path} opened`);
}

/** A deterministic run of bytes that is neither a tar nor compressed. */
function noise(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0, x = 7; i < size; i += 1) bytes[i] = x = (x * 1103515245 + 12345) & 0xff;
  bytes[0] = 0x80; // makes node-tar read a base-256 number, which it cannot decode
  return bytes;
}

describe('damaged compressed archives', () => {
  const gz = gzipSync(twoImageDockerArchive().tar);

  it.each([false, true])('calls a cut gzip archive truncated (stdin: %s)', async (stdin) => {
    const path = writeTemp('cut.tar.gz', gz.subarray(0, gz.length >> 1));
    expect(await openError(path, stdin)).toMatchObject({
      code: 'ARCHIVE_TRUNCATED',
      exitCode: 5,
    });
  });

  it.each([8, 10])('calls a gzip archive without its last %i bytes truncated', async (cut) => {
    const path = writeTemp('trailer.tar.gz', gz.subarray(0, gz.length - cut));
    expect(await openError(path)).toMatchObject({ code: 'ARCHIVE_TRUNCATED' });
    expect(await openError(path, true)).toMatchObject({ code: 'ARCHIVE_TRUNCATED' });
  });

  it('calls a gzip archive with a wrong CRC corrupt', async () => {
    const bad = Buffer.from(gz);
    bad[bad.length - 8] ^= 0xff;
    expect(await openError(writeTemp('crc.tar.gz', bad))).toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      exitCode: 5,
    });
  });

  it('calls gzip data followed by junk corrupt', async () => {
    const path = writeTemp(
      'junk.tar.gz',
      Buffer.concat([gzipSync('hello\n'), Buffer.from('junk\n')]),
    );
    expect(await openError(path)).toMatchObject({ code: 'ARCHIVE_CORRUPT' });
  });

  it.each([
    ['zstd', '.zst'],
    ['xz', '.xz'],
    ['bzip2', '.bz2'],
  ])('calls a cut %s archive truncated', async (program, suffix) => {
    const dir = tempDir();
    const tar = join(dir, 'all.tar');
    writeFileSync(tar, twoImageDockerArchive().tar);
    await execa(program, ['-q', '-k', '-f', tar]);
    await execa('sh', ['-c', `head -c -20 ${tar}${suffix} > ${dir}/cut.tar${suffix}`]);
    for (const stdin of [false, true]) {
      expect(await openError(join(dir, `cut.tar${suffix}`), stdin)).toMatchObject({
        code: 'ARCHIVE_TRUNCATED',
      });
    }
  });
});

/** loadStream loads every image of a streamed archive into a new layout, as load -i - does. */
async function loadStream(path: string): Promise<void> {
  const reader = await ArchiveReader.open(createReadStream(path));
  const layout = new LayoutStore(join(tempDir(), 'store'));
  try {
    await copyImages(reader, layout, requestsFor(reader));
    await reader.close();
    await layout.close();
  } catch (error) {
    await reader.close();
    await layout.abort();
    throw error;
  }
}

describe('a streamed gzip archive without its trailer', () => {
  it('fails the load even when the images arrived whole', async () => {
    const gz = gzipSync(twoImageDockerArchive().tar);
    const path = writeTemp('trailer.tar.gz', gz.subarray(0, gz.length - 8));
    await expect(loadStream(path)).rejects.toMatchObject({ code: 'ARCHIVE_TRUNCATED' });
  });
});

describe('foreign input', () => {
  it.each(['x.tar', 'x.tar.gz', 'x.tar.zst'])(
    'calls random bytes named %s not a tar',
    async (name) => {
      for (const stdin of [false, true]) {
        expect(await openError(writeTemp(name, noise(4096)), stdin)).toMatchObject({
          code: 'ARCHIVE_NOT_TAR',
          exitCode: 6,
        });
      }
    },
  );

  it('calls a file shorter than one tar header not a tar, rather than cut short', async () => {
    for (const stdin of [false, true]) {
      expect(await openError(writeTemp('short.tar', Buffer.from('hello\n')), stdin)).toMatchObject({
        code: 'ARCHIVE_NOT_TAR',
        exitCode: 6,
      });
    }
  });

  it('calls a folder a usage error, and points an OCI layout at dir:', async () => {
    const plain = join(tempDir(), 'd.tar');
    mkdirSync(plain);
    expect(await openError(plain)).toMatchObject({ code: 'ARCHIVE_IS_FOLDER', exitCode: 2 });
    const layout = join(tempDir(), 'layout');
    mkdirSync(layout);
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const error = await openError(layout);
    expect(error).toMatchObject({ code: 'ARCHIVE_IS_FOLDER' });
    expect(String(error.hint)).toContain(`--from dir:${layout}`);
  });
});

describe('an empty layer file', () => {
  it('is not a layer: even a layer with no files is a tar of end blocks', async () => {
    const config = makeConfig([sha256Digest(Buffer.alloc(0))]);
    const hex = sha256Digest(config).slice(7);
    const manifest = [{ Config: `${hex}.json`, RepoTags: ['empty:1'], Layers: ['l/layer.tar'] }];
    const path = writeTemp(
      'empty-layer.tar',
      makeTar([
        { path: `${hex}.json`, data: config },
        { path: 'l/layer.tar', data: '' },
        { path: 'manifest.json', data: JSON.stringify(manifest) },
      ]),
    );
    const error = await openError(path);
    expect(error).toMatchObject({ code: 'ARCHIVE_ENTRY_INVALID', exitCode: 5 });
    expect(String(error.message)).toContain('l/layer.tar');
  });
});
