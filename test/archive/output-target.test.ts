import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';

const fixtures = `dir:${join(projectRoot, 'fixtures/images')}`;

function save(output: string, ...images: string[]) {
  return runRegtool(['save', '-o', output, '--from', fixtures, ...images]);
}

/** isTar tells a tar by the ustar magic of its first header. */
function isTar(path: string): boolean {
  return readFileSync(path).subarray(257, 262).toString() === 'ustar';
}

describe('save -o onto what is already there', () => {
  it('writes through a character device and leaves it a device', async () => {
    // A node of its own (root may make one) rather than /dev/null, which a regression would
    // replace for the whole machine.
    const root = process.getuid?.() === 0;
    const device = root ? join(tempDir(), 'null') : '/dev/null';
    if (root) await execa('mknod', ['-m', '666', device, 'c', '1', '3']);
    const result = await save(device, 'base:1.0');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(statSync(device).isCharacterDevice()).toBe(true);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('writes through a FIFO to its reader and leaves it a FIFO', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'pipe.tar');
    await execa('mkfifo', [fifo]);
    const copy = join(dir, 'copy.tar');
    const reader = execa('sh', ['-c', `cat "${fifo}" > "${copy}"`]);
    const result = await save(fifo, 'base:1.0');
    await reader;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(isTar(copy)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['copy.tar', 'pipe.tar']);
  });

  it('keeps a symbolic link and writes the archive to its target', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'real'));
    const target = join(dir, 'real', 'target.tar');
    writeFileSync(target, 'old');
    const link = join(dir, 'link.tar');
    symlinkSync('real/target.tar', link);
    const result = await save(link, 'base:1.0');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('real/target.tar');
    expect(isTar(target)).toBe(true);
    expect(readdirSync(join(dir, 'real'))).toEqual(['target.tar']);
  });

  it('writes the target of a dangling symbolic link', async () => {
    const dir = tempDir();
    const link = join(dir, 'link.tar');
    symlinkSync('new.tar', link);
    const result = await save(link, 'base:1.0');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(isTar(join(dir, 'new.tar'))).toBe(true);
  });

  it('refuses a folder with a usage error before copying anything', async () => {
    const dir = tempDir();
    const result = await save(dir, 'base:1.0');
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toContain('is a folder');
    expect(result.stderr).not.toContain('INTERNAL');
    expect(result.stderr).not.toContain('copied');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a folder as copy --to archive: too', async () => {
    const dir = tempDir();
    const result = await runRegtool([
      'copy',
      'base:1.0',
      '--from',
      fixtures,
      '--to',
      `archive:${dir}`,
    ]);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes temporary files a killed save left an hour ago, and keeps recent ones', async () => {
    const dir = tempDir();
    const output = join(dir, 'x.tar.gz');
    const stale = join(dir, '.x.tar.gz.0123456789ab.tmp');
    const recent = join(dir, '.x.tar.gz.ba9876543210.tmp');
    const other = join(dir, '.y.tar.gz.0123456789ab.tmp');
    for (const file of [stale, recent, other]) writeFileSync(file, 'partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    utimesSync(other, twoHoursAgo, twoHoursAgo);
    const result = await save(output, 'base:1.0');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });
});
