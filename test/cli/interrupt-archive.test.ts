import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';

import { makeTar, metadataFirstArchive } from '../archive/build.js';
import { bigImageLayout } from '../helpers/big-image.js';
import { projectRoot, tempDir } from '../helpers/cli.js';

let source: string;

beforeAll(async () => {
  source = await bigImageLayout(150);
}, 120_000);

async function waitFor(what: () => boolean, ms = 20_000): Promise<void> {
  for (const start = Date.now(); !what();) {
    if (Date.now() - start > ms) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** zstdChildren lists the zstd processes a process started. */
async function zstdChildren(pid: number): Promise<number[]> {
  const found = await execa('pgrep', ['-P', String(pid), 'zstd'], { reject: false });
  return String(found.stdout).split('\n').filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** interrupt starts a write of the big image, signals it mid-way and returns what it did. */
async function interrupt(args: string[], dir: string, signal: NodeJS.Signals, zstd: boolean) {
  const child = execa(
    'node',
    [join(projectRoot, 'bin/regtool'), ...args, '--from', `dir:${source}`],
    {
      reject: false,
      env: { NO_COLOR: '1' },
    },
  );
  const temp = () => readdirSync(dir).find((name) => name.endsWith('.tmp'));
  let zstdPids: number[] = [];
  await waitFor(() => {
    const name = temp();
    return name !== undefined && statSync(join(dir, name)).size > 0;
  });
  if (zstd) zstdPids = await zstdChildren(child.pid!);
  const sent = Date.now();
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const result = await child;
  clearTimeout(timer);
  return { result, elapsed: Date.now() - sent, zstdPids };
}

describe.each([
  ['.tar.zst', true],
  ['.tar.gz', false],
  ['.tar', false],
])('interrupting a %s write', (suffix, zstd) => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'exits 130 promptly on %s, with no stack trace and no temporary file',
    async (signal) => {
      const dir = tempDir();
      const output = join(dir, `x${suffix}`);
      const { result, elapsed, zstdPids } = await interrupt(
        ['save', '-o', output, 'big:1'],
        dir,
        signal,
        zstd,
      );
      const stderr = String(result.stderr);
      expect(result.exitCode, stderr).toBe(130);
      expect(elapsed).toBeLessThan(5000);
      expect(stderr).toContain('INTERRUPTED');
      expect(stderr).not.toMatch(/ExecaError|ABORT_ERR|\n\s+at /);
      expect(String(result.stdout)).toBe('');
      expect(readdirSync(dir)).toEqual([]);
      if (zstd) expect(zstdPids.length).toBe(1);
      for (const pid of zstdPids) await waitFor(() => !alive(pid), 2000);
      expect(existsSync(output)).toBe(false);
    },
    60_000,
  );
});

describe('interrupting copy --to archive:FILE.tar.zst', () => {
  it('exits 130, kills zstd and removes the temporary file', async () => {
    const dir = tempDir();
    const { result, zstdPids } = await interrupt(
      ['copy', 'big:1', '--to', `archive:${join(dir, 'c.tar.zst')}`],
      dir,
      'SIGINT',
      true,
    );
    expect(result.exitCode, String(result.stderr)).toBe(130);
    expect(String(result.stderr)).not.toMatch(/ExecaError|\n\s+at /);
    expect(readdirSync(dir)).toEqual([]);
    for (const pid of zstdPids) await waitFor(() => !alive(pid), 2000);
  }, 60_000);
});

/** loadFromPipe starts `load -i -` into a new store in `dir`; the test writes its input. */
function loadFromPipe(dir: string) {
  return execa(
    'node',
    [join(projectRoot, 'bin/regtool'), 'load', '-i', '-', '--to', `dir:${join(dir, 'store')}`],
    { reject: false, env: { NO_COLOR: '1', REGTOOL_HOME: join(dir, 'home') } },
  );
}

/** interruptNow sends SIGINT and expects exit 130 within `ms`. */
async function interruptNow(child: ReturnType<typeof loadFromPipe>, ms: number) {
  const started = Date.now();
  child.kill('SIGINT');
  const result = await child;
  expect(result.exitCode, String(result.stderr)).toBe(130);
  expect(Date.now() - started).toBeLessThan(ms);
  child.stdin!.destroy();
}

describe('interrupting load -i - while the writer goes on', () => {
  it('exits 130 at once in the middle of a layer of an archive in regtool order', async () => {
    // The metadata comes first: the copy is under way, reading the first of two layers, which
    // arrives slowly, and waiting for the second.
    const dir = tempDir();
    const layers = [1, 2].map((n) => makeTar([{ path: `${n}.bin`, data: randomBytes(4 << 20) }]));
    const archive = metadataFirstArchive('slow:1', layers);
    const child = loadFromPipe(dir);
    child.stdin!.write(archive.subarray(0, archive.length - (6 << 20)));
    await waitFor(() => existsSync(join(dir, 'store', 'oci-layout')));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await interruptNow(child, 2000);
  }, 30_000);

  it('exits 130 at once and removes its spool folder, without reading to the end', async () => {
    // docker save order: the layers come first and are spooled; manifest.json never comes.
    const dir = tempDir();
    const layer = makeTar([{ path: 'big.bin', data: randomBytes(4 << 20) }]);
    const child = loadFromPipe(dir);
    child.stdin!.write(makeTar([{ path: 'l/layer.tar', data: layer }]).subarray(0, 2 << 20));
    const spool = () => readdirSync(dir).some((name) => name.startsWith('.regtool-spool-'));
    await waitFor(spool);
    await interruptNow(child, 5000);
    expect(spool()).toBe(false);
  }, 30_000);
});
