/**
 * Links that arrive after the image metadata of a streamed archive: the layer a link stands for
 * is handed over from wherever its data is, and a link no single pass can follow is refused
 * with a clear error.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { verifyStore } from '../../src/copy/verify.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { runRegtool, tempDir } from '../helpers/cli.js';
import { blobPathOf, makeTar, metadataFirstArchive, writeTemp, type TarItem } from './build.js';
import { loadInto } from './helpers.js';

const NAME = 'docker.io/library/linked:1.0';
/** Larger than what is kept in memory, so the images are worked out when it arrives. */
const big = makeTar([{ path: 'big.bin', data: randomBytes(2 << 20) }]);
const small = makeTar([{ path: 'small.txt', data: 'the linked layer' }]);
const smallPath = blobPathOf(small);

/**
 * linkedArchive is a docker+oci archive, metadata first as regtool writes it, of one image with
 * a big layer and a small one. The small layer's own entry is left to `tail`, which comes after
 * the big layer; `head` comes before it.
 */
function linkedArchive(tail: TarItem[], head: TarItem[] = []): string {
  const tar = metadataFirstArchive(NAME, [big, small], { detached: [small], head, tail });
  return writeTemp('linked.tar', tar);
}

const symlink = (path: string, linkpath: string): TarItem => ({
  path,
  type: 'SymbolicLink',
  linkpath,
});

/** loadStreamed loads an archive read as a stream into a new layout, and verifies it. */
async function loadStreamed(path: string) {
  const spoolDir = tempDir();
  const { dir } = await loadInto(createReadStream(path), undefined, { spoolDir, jobs: 4 });
  expect(readdirSync(spoolDir)).toEqual([]);
  return verifyStore(new LayoutStore(dir));
}

describe('a link after the image metadata of a streamed archive', () => {
  it.each([
    [
      'a symbolic link to an entry further on',
      [symlink(smallPath, '../../layers/small.tar'), { path: 'layers/small.tar', data: small }],
      [],
    ],
    [
      'a chain of links, each to an entry further on',
      [
        symlink(smallPath, '../../links/one'),
        symlink('links/one', 'two'),
        { path: 'links/two', data: small },
      ],
      [],
    ],
    [
      'a symbolic link to an entry that came before the metadata was known',
      [symlink(smallPath, '../../early/small.tar')],
      [{ path: 'early/small.tar', data: small }],
    ],
    [
      'a hard link to an entry that came before the metadata was known',
      [{ path: smallPath, type: 'Link', linkpath: 'early/small.tar' }],
      [{ path: 'early/small.tar', data: small }],
    ],
  ] as [string, TarItem[], TarItem[]][])('%s loads', async (_, tail, head) => {
    const report = await loadStreamed(linkedArchive(tail, head));
    expect(report.problems).toEqual([]);
    expect(report.images).toBe(1);
  });

  it('is refused when it links back to an entry the stream has passed', async () => {
    const archive = linkedArchive([
      { path: 'passed/small.tar', data: small },
      symlink(smallPath, '../../passed/small.tar'),
    ]);
    await expect(loadStreamed(archive)).rejects.toMatchObject({ code: 'ARCHIVE_STREAM_LINK_BACK' });
    const dest = join(tempDir(), 'store');
    const result = await runRegtool(['load', '-i', '-', '--to', `dir:${dest}`], {
      inputFile: archive,
    });
    expect(result.stderr).toContain('links back to "passed/small.tar"');
    expect(result.stderr).toContain('save the archive to a file');
    expect(result.exitCode).not.toBe(0);
    const compressed = writeTemp('linked.tar.gz', gzipSync(readFileSync(archive)));
    const once = await runRegtool(['load', '-i', compressed, '--to', `dir:${dest}`]);
    expect(once.stderr).toContain('decompress it first');
    expect(once.exitCode).not.toBe(0);
    const inPlace = await runRegtool(['load', '-i', archive, '--to', `dir:${dest}`]);
    expect(inPlace.exitCode).toBe(0);
    expect((await verifyStore(new LayoutStore(dest))).images).toBe(1);
  });

  it.each([
    [
      'a loop',
      [
        symlink(smallPath, '../../loop/a'),
        symlink('loop/a', '../blobs/sha256/x'),
        symlink('blobs/sha256/x', '../../loop/a'),
      ],
      'ARCHIVE_LINK_LOOP',
    ],
    [
      'a link back to itself through another',
      [symlink(smallPath, '../../loop/a'), symlink('loop/a', `../${smallPath}`)],
      'ARCHIVE_LINK_LOOP',
    ],
    [
      'a link out of the archive',
      [symlink(smallPath, '../../../etc/passwd')],
      'ARCHIVE_UNSAFE_PATH',
    ],
    ['a link to an absolute path', [symlink(smallPath, '/etc/passwd')], 'ARCHIVE_UNSAFE_PATH'],
    ['a link to nothing', [symlink(smallPath, '../../nowhere')], 'ARCHIVE_ENTRY_MISSING'],
  ] as [string, TarItem[], string][])('fails on %s', async (_, tail, code) => {
    await expect(loadStreamed(linkedArchive(tail))).rejects.toMatchObject({ code });
  });
});
