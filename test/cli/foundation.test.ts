import { readdirSync, statSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import {
  copyWritable,
  corpusDir,
  hasCorpus,
  projectRoot,
  runRegtool,
  tempDir,
} from '../helpers/cli.js';

const fixtures = join(projectRoot, 'fixtures/images');

describe.skipIf(!hasCorpus)('layouts written by other tools (regclient testrepo)', () => {
  it('copies every tagged image into a fresh layout that skopeo and umoci read', async () => {
    const repo = copyWritable(join(corpusDir, 'regclient/testrepo'));
    const out = join(tempDir(), 'layout');
    for (const name of ['v1', 'v2', 'v3', 'a1', 'a2', 'a3', 'b1']) {
      const result = await runRegtool([
        'copy',
        name,
        '--from',
        `dir:${repo}`,
        '--to',
        `dir:${out}`,
      ]);
      expect(result.stderr).not.toContain('error');
      expect(result.exitCode).toBe(0);
    }
    expect((await runRegtool(['verify', `dir:${out}`])).exitCode).toBe(0);
    const umoci = await execa('umoci', ['ls', '--layout', out]);
    expect(umoci.stdout).toContain('docker.io/library/v1:latest');
    const archive = join(tempDir(), 'a1.tar');
    await execa('skopeo', [
      'copy',
      `oci:${out}:docker.io/library/a1:latest`,
      `oci-archive:${archive}`,
    ]);
    expect(statSync(archive).size).toBeGreaterThan(0);
  });

  it('lists bare ref names and finds images by them', async () => {
    const repo = copyWritable(join(corpusDir, 'regclient/testrepo'));
    const result = await runRegtool(['--json', 'ls', `dir:${repo}`]);
    const names = (JSON.parse(result.stdout) as { images: Array<{ name: string }> }).images.map(
      (i) => i.name,
    );
    expect(names).toContain('v1');
    expect(names).toContain('loop');
    const inspect = await runRegtool(['--json', 'inspect', 'v1', '--from', `dir:${repo}`]);
    expect(JSON.parse(inspect.stdout).digest).toBe(
      'sha256:7ceb9b6bcc274697d0c38be6214b50cec79d601bc61708747d3f6cb772f6c6fa',
    );
  });

  it('verifies nested indexes, artifacts and a referrer loop without hanging', async () => {
    const repo = copyWritable(join(corpusDir, 'regclient/testrepo'));
    const result = await runRegtool(['verify', `dir:${repo}`]);
    expect(result.exitCode).toBe(0);
  });

  it('exits 5 when one byte of a blob is flipped', async () => {
    const repo = copyWritable(join(corpusDir, 'regclient/testrepo'));
    const blobs = join(repo, 'blobs/sha256');
    const largest = readdirSync(blobs).sort(
      (a, b) => statSync(join(blobs, b)).size - statSync(join(blobs, a)).size,
    )[0]!;
    const fd = openSync(join(blobs, largest), 'r+');
    writeSync(fd, 'X', 10);
    closeSync(fd);
    const result = await runRegtool(['verify', `dir:${repo}`]);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain('VERIFY_FAILED');
    expect(result.stdout).toContain(largest.slice(0, 12));
  });
});

describe('the local store', () => {
  it('keeps both images when two copies run into it at once', async () => {
    const home = tempDir();
    const env = { REGTOOL_HOME: home };
    const copies = ['alpha:1.0', 'beta:1.0', 'base:1.0', 'multi:1.0'].map((name) =>
      runRegtool(['copy', name, '--from', `dir:${fixtures}`, '--to', 'dir'], { env }),
    );
    const results = await Promise.all(copies);
    expect(
      results.map((r) => r.exitCode),
      results.map((r) => r.stderr).join('\n'),
    ).toEqual([0, 0, 0, 0]);
    const listed = JSON.parse((await runRegtool(['--json', 'ls'], { env })).stdout) as {
      images: Array<{ name: string }>;
    };
    expect(listed.images.map((i) => i.name).sort()).toEqual([
      'docker.io/library/alpha:1.0',
      'docker.io/library/base:1.0',
      'docker.io/library/beta:1.0',
      'docker.io/library/multi:1.0',
    ]);
    expect((await runRegtool(['verify'], { env })).exitCode).toBe(0);
  });

  it('removes a name with rm and frees its blobs with prune', async () => {
    const env = { REGTOOL_HOME: tempDir() };
    await runRegtool(['copy', 'alpha:1.0', '--from', `dir:${fixtures}`, '--to', 'dir'], { env });
    await runRegtool(['copy', 'beta:1.0', '--from', `dir:${fixtures}`, '--to', 'dir'], { env });
    expect((await runRegtool(['rm', 'alpha:1.0'], { env })).exitCode).toBe(0);
    const pruned = JSON.parse((await runRegtool(['--json', 'prune'], { env })).stdout) as {
      blobs: number;
    };
    expect(pruned.blobs).toBeGreaterThan(0);
    expect((await runRegtool(['verify'], { env })).exitCode).toBe(0);
    expect((await runRegtool(['inspect', 'alpha:1.0', '--from', 'dir'], { env })).exitCode).toBe(3);
  });

  it('copies one platform of a multi-platform image with --platform', async () => {
    const env = { REGTOOL_HOME: tempDir() };
    const result = await runRegtool(
      [
        '--json',
        'copy',
        'multi:1.0',
        '--from',
        `dir:${fixtures}`,
        '--to',
        'dir',
        '--platform',
        'linux/arm64',
      ],
      { env },
    );
    expect(result.exitCode).toBe(0);
    const inspect = JSON.parse(
      (await runRegtool(['--json', 'inspect', 'multi:1.0'], { env })).stdout,
    );
    expect(inspect.config.architecture).toBe('arm64');
  });

  it('narrows to one platform a name that points at the whole index', async () => {
    const env = { REGTOOL_HOME: tempDir() };
    const copy = ['copy', 'multi:1.0', '--from', `dir:${fixtures}`, '--to', 'dir'];
    expect((await runRegtool(copy, { env })).exitCode).toBe(0);
    const narrowed = await runRegtool([...copy, '--platform', 'linux/arm64'], { env });
    expect(narrowed.exitCode, narrowed.stderr).toBe(0);
    const inspect = JSON.parse(
      (await runRegtool(['--json', 'inspect', 'multi:1.0'], { env })).stdout,
    );
    expect(inspect.config.architecture).toBe('arm64');
  });
});

describe('command-line contract', () => {
  it('prints the version', async () => {
    const result = await runRegtool(['--version']);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 with a hint on a bad flag or a bad reference', async () => {
    const flag = await runRegtool(['ls', '--nope']);
    expect(flag.exitCode).toBe(2);
    const ref = await runRegtool(['inspect', 'foo/Bar']);
    expect(ref.exitCode).toBe(2);
    expect(ref.stderr).toContain('REFERENCE_INVALID');
    expect(ref.stderr).toContain('hint:');
  });

  it('prints usage errors as one JSON document under --json', async () => {
    for (const args of [
      ['--json', '--bogus'],
      ['--json', 'copy'],
      ['--json', 'nosuchcmd'],
    ]) {
      const result = await runRegtool(args);
      expect(result.exitCode).toBe(2);
      expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'USAGE', exitCode: 2 });
    }
    const version = await runRegtool(['--json', '--version']);
    expect(JSON.parse(version.stdout).version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 3 for an image that is not there, with one JSON document under --json', async () => {
    const env = { REGTOOL_HOME: tempDir() };
    const result = await runRegtool(
      ['--json', 'inspect', 'nothing:here', '--from', `dir:${fixtures}`],
      { env },
    );
    expect(result.exitCode).toBe(3);
    expect(JSON.parse(result.stdout).error.code).toBe('IMAGE_NOT_FOUND');
  });
});
