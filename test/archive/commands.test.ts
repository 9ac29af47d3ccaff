import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';

import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';
import { pushFixtureImages, startRegistry } from '../peers/index.js';
import { twoImageDockerArchive, writeTemp } from './build.js';

const bin = join(projectRoot, 'bin/regtool');

describe('save, load, ls, inspect and verify on archives', () => {
  let env: Record<string, string>;

  beforeAll(async () => {
    env = { REGTOOL_HOME: join(tempDir(), 'home') };
    const loaded = await runRegtool(
      ['load', '-i', writeTemp('two.tar', twoImageDockerArchive().tar)],
      {
        env,
      },
    );
    expect(loaded.exitCode).toBe(0);
  });

  it('saves to every compression and reads each back through archive: addresses', async () => {
    const dir = tempDir();
    for (const name of ['out.tar', 'out.tar.gz', 'out.tar.zst']) {
      const path = join(dir, name);
      const saved = await runRegtool(['save', '-o', path, 'alpha:1.0', 'beta:1.0'], { env });
      expect(saved.exitCode).toBe(0);
      const listed = await runRegtool(['--json', 'ls', `archive:${path}`]);
      expect(JSON.parse(listed.stdout).images.map((i: { name: string }) => i.name)).toEqual([
        'docker.io/library/alpha:1.0',
        'docker.io/library/beta:1.0',
      ]);
      const inspected = await runRegtool(['--json', 'inspect', 'beta:1.0', '--from', path]);
      expect(JSON.parse(inspected.stdout).config.architecture).toBe('arm64');
      expect((await runRegtool(['verify', `archive:${path}`])).exitCode).toBe(0);
    }
    expect(readdirSync(dir).sort()).toEqual(['out.tar', 'out.tar.gz', 'out.tar.zst']);
  });

  it('--compress wins over the name, and -o - writes the archive to stdout', async () => {
    const path = join(tempDir(), 'named.tar');
    expect(
      (await runRegtool(['save', '-o', path, '--compress', 'gzip', 'alpha:1.0'], { env })).exitCode,
    ).toBe(0);
    expect(readFileSync(path).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const piped = await execa(
      'sh',
      [
        '-c',
        `node ${bin} save -o - alpha:1.0 | node ${bin} --json load -i - --to dir:${tempDir()}/x`,
      ],
      {
        env: { ...process.env, ...env },
      },
    );
    expect(JSON.parse(piped.stdout).loaded[0].name).toBe('docker.io/library/alpha:1.0');
  });

  it('leaves no file behind when an image is missing', async () => {
    const dir = tempDir();
    const result = await runRegtool(
      ['save', '-o', join(dir, 'x.tar'), 'alpha:1.0', 'nothere:1', '--from', 'dir'],
      { env },
    );
    expect(result.exitCode).toBe(3);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses an unknown --compress and a missing -i file with clear errors', async () => {
    const bad = await runRegtool(
      ['save', '-o', join(tempDir(), 'x.tar'), '--compress', 'lz4', 'alpha:1.0'],
      { env },
    );
    expect(bad.exitCode).toBe(2);
    // A name asking for a compression regtool does not write gets no plain tar under it.
    const dir = tempDir();
    const bz2 = await runRegtool(['save', '-o', join(dir, 'x.tar.bz2'), 'alpha:1.0'], { env });
    expect(bz2.exitCode).toBe(2);
    expect(bz2.stderr).toContain('does not write .bz2');
    expect(readdirSync(dir)).toEqual([]);
    const missing = await runRegtool(['load', '-i', join(tempDir(), 'none.tar')], { env });
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain('does not exist');
    expect(existsSync(join(tempDir(), 'none.tar'))).toBe(false);
  });
});

describe('load --platform of a multi-platform image', () => {
  it('reports the digest of the platform manifest it stored, not the archive index', async () => {
    const root = tempDir();
    const archive = join(root, 'multi.tar');
    const fixtures = `dir:${join(projectRoot, 'fixtures/images')}`;
    const saved = await runRegtool([
      'save',
      '-o',
      archive,
      'multi:1.0',
      '--all-platforms',
      '--from',
      fixtures,
    ]);
    expect(saved.exitCode, saved.stderr).toBe(0);
    const dest = `dir:${join(root, 'store')}`;
    const args = ['load', '-i', archive, 'multi:1.0', '--platform', 'linux/arm64', '--to', dest];
    const loaded = await runRegtool(['--json', ...args], {
      env: { REGTOOL_HOME: join(root, 'home') },
    });
    expect(loaded.exitCode, loaded.stderr).toBe(0);
    const listed = JSON.parse((await runRegtool(['--json', 'ls', dest])).stdout).images;
    const [image] = JSON.parse(loaded.stdout).loaded;
    expect(image.digest).toBe(listed[0].digest);
    expect(listed[0].mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(image.config).toMatch(/^sha256:/);
  });
});

describe('save from the local store and registries at once', () => {
  it('takes each image from where it is, sharing layers across sources', async () => {
    const registry = await startRegistry();
    const fixtures = await pushFixtureImages(registry);
    const env = { REGTOOL_HOME: join(tempDir(), 'home') };
    const loaded = await runRegtool(
      ['load', '-i', writeTemp('two.tar', twoImageDockerArchive().tar)],
      {
        env,
      },
    );
    expect(loaded.exitCode).toBe(0);
    const out = join(tempDir(), 'mixed.tar');
    const saved = await runRegtool(
      ['save', '-o', out, 'alpha:1.0', fixtures.tools.reference, fixtures.busybox.reference],
      { env },
    );
    expect(saved.exitCode).toBe(0);
    const listed = await runRegtool(['--json', 'ls', out]);
    expect(JSON.parse(listed.stdout).images.map((i: { name: string }) => i.name)).toEqual([
      'docker.io/library/alpha:1.0',
      fixtures.tools.reference,
      fixtures.busybox.reference,
    ]);
    expect((await runRegtool(['verify', out])).exitCode).toBe(0);
  });
});
