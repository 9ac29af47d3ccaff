/**
 * A destination that fails while an archive read as a stream feeds it: the load fails with the
 * destination's error, however many blobs move at once, names no image, and leaves no spool
 * folder. Layers are larger than what is kept in memory, so each goes straight to the
 * destination as it arrives.
 */
import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

import { execa, execaSync } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

import { RegtoolError } from '../../src/core/errors.js';
import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';
import { makeTar, metadataFirstArchive, writeTemp } from './build.js';
import { loadInto } from './helpers.js';

const NAME = 'docker.io/library/fed:1.0';
const layers = [0, 1, 2].map((i) => makeTar([{ path: `f${i}`, data: randomBytes(3 << 20) }]));
const tar = writeTemp('fed.tar', metadataFirstArchive(NAME, layers));
const compressed = writeTemp('fed.tar.gz', gzipSync(readFileSync(tar), { level: 1 }));

/** spoolsUnder lists the spool folders left in the given folders. */
function spoolsUnder(...folders: string[]): string[] {
  return folders.flatMap((folder) =>
    existsSync(folder)
      ? readdirSync(folder).filter((name) => name.startsWith('.regtool-spool-'))
      : [],
  );
}

/** loadCommand loads the archive with the CLI, from the compressed file or from a pipe. */
async function loadCommand(dest: string, input: 'file' | 'pipe', jobs: string) {
  const tmp = tempDir();
  const from = input === 'file' ? ['-i', compressed] : ['-i', '-'];
  const result = await runRegtool(['load', ...from, '-j', jobs, '--to', `dir:${dest}`], {
    env: { TMPDIR: tmp, REGTOOL_HOME: join(tmp, 'home') },
    inputFile: tar,
  });
  return { ...result, spools: spoolsUnder(tmp, dest, join(dest, '..')) };
}

describe('a destination that fails while a streamed archive feeds it', () => {
  it.each([
    ['file', '1'],
    ['file', '4'],
    ['pipe', '1'],
    ['pipe', '16'],
  ] as const)(
    'fails the load (%s, -j %s) when a file is where its temporary folder belongs',
    async (input, jobs) => {
      const dest = join(tempDir(), 'store');
      mkdirSync(dest);
      writeFileSync(join(dest, '.regtool-tmp'), 'in the way');
      const result = await loadCommand(dest, input, jobs);
      expect(result.stderr).toContain('error[LAYOUT_WRITE_FAILED]');
      expect(result.stderr).toContain('move it away');
      expect(result.exitCode).toBe(1);
      expect(result.spools).toEqual([]);
      expect(existsSync(join(dest, 'index.json'))).toBe(false);
    },
  );

  it.each([1, 4, 16])('rejects a load into the library with -j %i, spool removed', async (jobs) => {
    const dest = join(tempDir(), 'store');
    mkdirSync(dest);
    writeFileSync(join(dest, '.regtool-tmp'), 'in the way');
    const spoolDir = tempDir();
    const error = await loadInto(createReadStream(tar), dest, { spoolDir, jobs }).catch(
      (caught: unknown) => caught,
    );
    expect((error as RegtoolError).code).toBe('LAYOUT_WRITE_FAILED');
    expect(readdirSync(spoolDir)).toEqual([]);
  });
});

/** mountSmall mounts a file system of `size` on a new folder, when this process may. */
function mountSmall(size: string): string | undefined {
  const dir = tempDir();
  const mounted = execaSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], {
    reject: false,
  });
  return mounted.exitCode === 0 ? dir : undefined;
}

const small = mountSmall('5m');

describe.skipIf(!small)('a destination whose file system fills up in the middle of a layer', () => {
  afterAll(async () => {
    await execa('umount', [small!]);
  });

  it.each([
    ['file', '4'],
    ['pipe', '1'],
  ] as const)('fails the load (%s, -j %s) and keeps no blob of it', async (input, jobs) => {
    const dest = join(small!, `store-${input}-${jobs}`);
    const result = await loadCommand(dest, input, jobs);
    expect(result.stderr).toContain('error[LAYOUT_WRITE_FAILED]');
    expect(result.stderr).toContain('no space left on device');
    expect(result.exitCode).toBe(1);
    expect(result.spools).toEqual([]);
    expect(existsSync(dest)).toBe(false);
  });
});

describe('a command that waits for something that never happens', () => {
  it('fails with an internal error instead of exiting 0', async () => {
    // A destination whose blob writes never end: once nothing else is pending, Node would exit.
    // bin/regtool runs a bundle; this runs the same main() from the modules tsc wrote, so that
    // the patch reaches the LayoutStore the command uses.
    const dist = (path: string) => pathToFileURL(join(projectRoot, 'dist', path)).href;
    const never = `data:text/javascript,import { LayoutStore } from "${dist('stores/layout/layout-store.js')}"; LayoutStore.prototype.putBlob = () => new Promise(() => {});`;
    const run = `import { main } from "${dist('cli/main.js')}"; main(process.argv).then((code) => { process.exitCode = code; });`;
    const dest = join(tempDir(), 'store');
    const result = await execa(
      'node',
      [
        '--import',
        never,
        '--input-type=module',
        '--eval',
        run,
        'regtool',
        'load',
        '-i',
        tar,
        '--to',
        `dir:${dest}`,
      ],
      { reject: false, env: { NO_COLOR: '1', REGTOOL_HOME: join(tempDir(), 'home') } },
    );
    expect(result.stderr).toContain('error[COMMAND_STALLED]');
    expect(result.exitCode).toBe(1);
  });
});
