/**
 * Crafted archives read both ways: a plain tar read in place, and the same tar read as a stream
 * (gzip-compressed and loaded in one pass, or on a pipe). Both readers must agree on whether it
 * loads and, when it does not, on the error code, however many blobs move at once.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { RegtoolError } from '../../src/core/errors.js';
import { verifyStore } from '../../src/copy/verify.js';
import { MAX_LINKS } from '../../src/stores/archive/links.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { runRegtool, tempDir } from '../helpers/cli.js';
import { blobPathOf, makeTar, metadataFirstArchive, writeTemp, type TarItem } from './build.js';
import { loadInto } from './helpers.js';

const NAME = 'docker.io/library/linked:1.0';
/** Larger than what is kept in memory: it is fed straight to the destination. */
const big = makeTar([{ path: 'big.bin', data: randomBytes(2 << 20) }]);
const small = makeTar([{ path: 'small.txt', data: 'the linked layer' }]);
const other = makeTar([{ path: 'other.txt', data: 'another layer' }]);

const symlink = (path: string, linkpath: string): TarItem => ({
  path,
  type: 'SymbolicLink',
  linkpath,
});
const hardlink = (path: string, linkpath: string): TarItem => ({ path, type: 'Link', linkpath });
const file = (path: string, data: Buffer): TarItem => ({ path, data });

/** chain is `count` symbolic links in a row, c/0 -> c/1 -> ..., the last to c/<count>. */
function chain(count: number, from = 0): TarItem[] {
  return Array.from({ length: count }, (_, i) => symlink(`c/${from + i}`, `${from + i + 1}`));
}

interface Case {
  layers?: Buffer[];
  /** Layers whose own entries are left out: the default is the small one. */
  detached?: Buffer[];
  head?: TarItem[];
  tail: TarItem[];
  /** What the stream says where it cannot agree with the file reader: the same every time. */
  streamed?: string;
}

const smallPath = blobPathOf(small);
const toSmall = `../../${smallPath}`;
const cases: Record<string, Case> = {
  'a link to a file further on': { tail: [symlink(smallPath, '../../f/s'), file('f/s', small)] },
  'the same symbolic link twice': {
    tail: [symlink(smallPath, '../../f/s'), symlink(smallPath, '../../f/s'), file('f/s', small)],
  },
  'the same hard link twice': {
    tail: [hardlink(smallPath, 'f/s'), hardlink(smallPath, 'f/s'), file('f/s', small)],
  },
  'two links to one file further on': {
    tail: [symlink(smallPath, '../../f/s'), symlink('x/y', '../f/s'), file('f/s', small)],
  },
  'two links to one file, one through the other': {
    tail: [
      symlink(smallPath, '../../f/a'),
      symlink('f/a', 's'),
      symlink('f/b', 's'),
      file('f/s', small),
    ],
  },
  'two layers linked to one file further on': {
    layers: [big, small, other],
    detached: [small, other],
    tail: [symlink(smallPath, '../../f/s'), hardlink(blobPathOf(other), 'f/s'), file('f/s', small)],
  },
  'two layers linked to one big file, before the metadata is complete': {
    layers: [small, big, other],
    detached: [big, other],
    tail: [
      symlink(blobPathOf(big), '../../f/big'),
      hardlink(blobPathOf(other), 'f/big'),
      file('f/big', big),
    ],
  },
  'two links to one big file further on': {
    detached: [big],
    tail: [
      symlink(blobPathOf(big), '../../f/big'),
      hardlink('x/big', 'f/big'),
      file('f/big', big),
      file(smallPath, small),
    ],
  },
  'a link led elsewhere by a second one, before either file': {
    tail: [
      symlink(smallPath, '../../f/s'),
      symlink(smallPath, '../../f/t'),
      file('f/s', other),
      file('f/t', small),
    ],
  },
  [`a chain of ${MAX_LINKS} links`]: {
    tail: [
      symlink(smallPath, '../../c/0'),
      ...chain(MAX_LINKS - 1),
      file(`c/${MAX_LINKS - 1}`, small),
    ],
  },
  [`a chain of ${MAX_LINKS + 1} links`]: {
    tail: [symlink(smallPath, '../../c/0'), ...chain(MAX_LINKS), file(`c/${MAX_LINKS}`, small)],
  },
  'a chain of 41 links': {
    tail: [symlink(smallPath, '../../c/0'), ...chain(40), file('c/40', small)],
  },
  [`a chain of ${MAX_LINKS + 1} links, half before the metadata was known`]: {
    head: chain(16),
    tail: [
      symlink(smallPath, '../../c/0'),
      ...chain(MAX_LINKS - 16, 16),
      file(`c/${MAX_LINKS}`, small),
    ],
  },
  [`a chain of ${MAX_LINKS} links, half before the metadata was known`]: {
    head: chain(16),
    tail: [
      symlink(smallPath, '../../c/0'),
      ...chain(MAX_LINKS - 17, 16),
      file(`c/${MAX_LINKS - 1}`, small),
    ],
  },
  'a link to a folder that came before the metadata': {
    head: [{ path: 'd', type: 'Directory' }],
    tail: [symlink(smallPath, '../../d')],
  },
  'a link to a folder further on': {
    tail: [symlink(smallPath, '../../d'), { path: 'd', type: 'Directory' }],
  },
  'a link to nothing named': { tail: [symlink(smallPath, '')] },
  'a link to nothing there': { tail: [symlink(smallPath, '../../nowhere')] },
  'a loop of links': {
    tail: [symlink(smallPath, '../../l/a'), symlink('l/a', 'b'), symlink('l/b', toSmall.slice(3))],
  },
  'a link out of the archive': { tail: [symlink(smallPath, '../../../etc/passwd')] },
};

/** After the layers, in entries nobody asked for: the stream is read to its end all the same. */
const trailing: Record<string, Case> = {
  'a layer that comes again, the same': { detached: [], tail: [file(smallPath, small)] },
  'a folder and a link that come again, the same': {
    detached: [],
    head: [{ path: 'd', type: 'Directory' }, symlink('d/l', 'x')],
    tail: [{ path: 'd', type: 'Directory' }, symlink('d/l', 'x')],
  },
  // Read once, a stream cannot take back the data it handed over: it refuses the second one.
  'a layer that comes again, different': {
    detached: [],
    tail: [file(smallPath, other)],
    streamed: 'ARCHIVE_ENTRY_REPEATED',
  },
  'an entry outside the archive': { detached: [], tail: [file('../outside', small)] },
  'an entry cut short': { detached: [], tail: [file('cut', randomBytes(4096))] },
};

type Way = 'file' | 'gzip read once' | 'stream';

/** outcome loads an archive one way and says how it went: `loaded`, or the error code. */
async function outcome(tar: string, way: Way, jobs: number): Promise<string> {
  const spoolDir = tempDir();
  const input = way === 'file' ? tar : way === 'stream' ? createReadStream(tar) : gzipped(tar);
  try {
    const { layout } = await loadInto(input, undefined, { spoolDir, jobs, once: true });
    const report = await verifyStore(layout);
    expect(report.problems).toEqual([]);
    return `loaded ${report.images}`;
  } catch (error) {
    if (!(error instanceof RegtoolError)) throw error;
    return error.code;
  } finally {
    expect(readdirSync(spoolDir)).toEqual([]);
  }
}

/** said is how a load on the command line ended: its exit status and error code. */
function said(result: { exitCode: number; stderr: string }) {
  return { exit: result.exitCode, code: /error\[(\w+)\]/.exec(result.stderr)?.[1] };
}

function gzipped(tar: string): string {
  return writeTemp('linked.tar.gz', gzipSync(readFileSync(tar)));
}

function archiveOf(crafted: Case, cut = 0): string {
  const { layers = [big, small], detached = [small], head, tail } = crafted;
  const tar = metadataFirstArchive(NAME, layers, { detached, head, tail });
  return writeTemp('crafted.tar', tar.subarray(0, tar.length - cut));
}

/** agree loads an archive in place, then as a stream every way, and compares the outcomes. */
async function agree(tar: string, streamed?: string): Promise<void> {
  const expected = streamed ?? (await outcome(tar, 'file', 4));
  for (const way of ['gzip read once', 'stream'] as const) {
    for (const jobs of [1, 4, 16]) {
      const got = await outcome(tar, way, jobs);
      expect({ way, jobs, outcome: got }).toEqual({ way, jobs, outcome: expected });
    }
  }
}

describe('an archive read in place and read as a stream', () => {
  it.each(Object.entries(cases))('%s: both readers agree', async (_, crafted) => {
    await agree(archiveOf(crafted));
  });

  it.each(Object.entries(trailing))(
    '%s after the layers: both readers agree',
    async (name, crafted) => {
      // Cut into the last entry's data, past the end-of-archive blocks.
      await agree(archiveOf(crafted, name.includes('cut') ? 1024 + 2048 : 0), crafted.streamed);
    },
  );

  it('agree on the command line too, however many blobs move at once', async () => {
    const names = [
      'the same hard link twice',
      'two layers linked to one file further on',
      'two layers linked to one big file, before the metadata is complete',
      'a chain of 41 links',
    ];
    for (const name of names) {
      const tar = archiveOf(cases[name]!);
      const compressed = gzipped(tar);
      const inPlace = await runRegtool(['load', '-i', tar, '--to', `dir:${join(tempDir(), 's')}`]);
      for (const jobs of ['1', '8', '16']) {
        for (const args of [
          ['-i', compressed],
          ['-i', '-'],
        ]) {
          const dest = join(tempDir(), 'store');
          const result = await runRegtool(['load', ...args, '-j', jobs, '--to', `dir:${dest}`], {
            inputFile: tar,
          });
          expect({ name, jobs, args, ...said(result) }).toEqual({
            name,
            jobs,
            args,
            ...said(inPlace),
          });
          if (result.exitCode === 0)
            expect((await verifyStore(new LayoutStore(dest))).images).toBe(1);
        }
      }
    }
  }, 120_000);
});
