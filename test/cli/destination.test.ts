import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { makeTar, metadataFirstArchive, writeTemp } from '../archive/build.js';
import { pushFixtureImages, startRegistry } from '../peers/index.js';
import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';

describe('progress and summary name the destination store', () => {
  it('on copy to a layout', async () => {
    const target = join(tempDir(), 'copy');
    const result = await runRegtool([
      'copy',
      'base:1.0',
      '--from',
      `dir:${join(projectRoot, 'fixtures/images')}`,
      '--to',
      `dir:${target}`,
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      new RegExp(
        `copying docker.io/library/base:1.0 -> docker.io/library/base:1.0 \\(dir:${target}\\)`,
      ),
    );
    expect(result.stdout).toContain(`(dir:${target})`);
  });

  it('on pull into the local store', async () => {
    const registry = await startRegistry({ auth: 'none' });
    const images = await pushFixtureImages(registry);
    const home = tempDir();
    const result = await runRegtool(['pull', images.busybox.reference], {
      env: { REGTOOL_HOME: home },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const copying = result.stderr.split('\n').find((line) => line.startsWith('copying'));
    expect(copying).toBe(
      `copying ${images.busybox.reference} -> ${images.busybox.reference} (dir:${home})`,
    );
    expect(result.stdout).toContain(`(dir:${home})`);
  }, 120_000);
});

describe('a failed write into a folder that did not exist', () => {
  it('leaves neither the folder nor the folders made above it', async () => {
    const layers = [1, 2].map((n) => makeTar([{ path: `${n}.bin`, data: randomBytes(2 << 20) }]));
    // Cut off in the second layer, after the first is written.
    const archive = metadataFirstArchive('cut:1', layers).subarray(0, 3 << 20);
    const root = tempDir();
    const result = await runRegtool(
      ['load', '-i', '-', '--to', `dir:${join(root, 'new', 'parent', 'store')}`],
      { inputFile: writeTemp('cut.tar', archive) },
    );
    expect(result.exitCode, result.stderr).toBe(5);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('--layout that disagrees with what a folder holds', () => {
  it('is LAYOUT_MISMATCH (exit 2) both ways', async () => {
    const fixtures = `dir:${join(projectRoot, 'fixtures/images')}`;
    for (const [first, then] of [
      ['registry', 'oci'],
      ['oci', 'registry'],
    ]) {
      const target = `dir:${join(tempDir(), 'store')}`;
      const copy = ['copy', 'base:1.0', '--from', fixtures, '--to', target, '--layout'];
      expect((await runRegtool([...copy, first!])).exitCode).toBe(0);
      const refused = await runRegtool([...copy, then!]);
      expect(refused.exitCode, refused.stderr).toBe(2);
      expect(refused.stderr).toContain(`error[LAYOUT_MISMATCH]`);
      expect(refused.stderr).toContain(`not ${then === 'oci' ? 'an' : 'a'} ${then} one`);
    }
  });
});

describe('an S3 endpoint that is no S3 server', () => {
  it('is S3_NOT_S3 (exit 7), naming the endpoint to check', async () => {
    const registry = await startRegistry({ auth: 'none' });
    const result = await runRegtool(['ls', 's3://bucket'], {
      env: {
        AWS_ENDPOINT_URL: `http://${registry.url}`,
        AWS_ACCESS_KEY_ID: 'key',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_REGION: 'us-east-1',
      },
    });
    expect(result.exitCode, result.stderr).toBe(7);
    expect(result.stderr).toContain('error[S3_NOT_S3]');
    expect(result.stderr).not.toContain('$response');
  });
});
