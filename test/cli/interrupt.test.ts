import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { bigImageLayout } from '../helpers/big-image.js';
import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';

describe('Ctrl-C', () => {
  it('exits 130, leaves nothing half-written, and a re-run finishes the copy', async () => {
    const source = await bigImageLayout(400);
    const target = join(tempDir(), 'target');
    const copy = ['copy', 'big:1', '--from', `dir:${source}`, '--to', `dir:${target}`];
    const child = execa('node', [join(projectRoot, 'bin/regtool'), ...copy], {
      reject: false,
      env: { NO_COLOR: '1' },
    });
    for (let i = 0; i < 200 && !existsSync(join(target, '.regtool-tmp')); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(130);
    expect(String(result.stderr)).toContain('INTERRUPTED');
    const temp = join(target, '.regtool-tmp');
    expect(existsSync(temp) ? readdirSync(temp) : []).toEqual([]);
    const listed = await runRegtool(['--json', 'ls', `dir:${target}`]);
    expect(JSON.parse(listed.stdout).images).toEqual([]);
    const again = await runRegtool(['--json', ...copy]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((await runRegtool(['verify', `dir:${target}`])).exitCode).toBe(0);
  });
});
