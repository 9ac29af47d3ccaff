import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

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
