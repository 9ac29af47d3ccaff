import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { execa, type ResultPromise } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';

import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';
import { startPodmanService, type PodmanPeer } from '../peers/index.js';
import { daemonImageNames, importImage } from './daemon-helpers.js';

const name = 'localhost/daemon-interrupt/large:1.0';
let podman: PodmanPeer;
let scratch: string;

beforeAll(async () => {
  podman = await startPodmanService();
  scratch = tempDir('regtool-daemon-interrupt-');
  await importImage(podman.socket, name, randomBytes(96 << 20));
});

function start(args: string[], env: Record<string, string> = {}) {
  return execa('node', [join(projectRoot, 'bin/regtool'), ...args], {
    reject: false,
    env: { NO_COLOR: '1', DOCKER_HOST: podman.dockerHost, ...env },
  });
}

async function waitFor(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ready(); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function interrupt(child: ResultPromise) {
  child.kill('SIGINT');
  const result = await child;
  expect(result.exitCode, String(result.stderr)).toBe(130);
  return result;
}

describe('Ctrl-C with the daemon at one end', () => {
  it('during a save from the daemon exits 130 and leaves no file and no spool', async () => {
    const spool = join(scratch, 'spool');
    await execa('mkdir', ['-p', spool]);
    const output = join(scratch, 'saved.tar');
    const child = start(['save', '-o', output, name, '--from', 'docker-daemon:'], {
      TMPDIR: spool,
    });
    await waitFor(() => readdirSync(spool).length > 0);
    await interrupt(child);
    expect(readdirSync(scratch).filter((entry) => entry.includes('saved.tar'))).toEqual([]);
    expect(readdirSync(spool)).toEqual([]);
  });

  it('during a load into the daemon exits 130 and loads nothing', async () => {
    const archive = join(scratch, 'large.tar');
    const saved = await runRegtool(['save', '-o', archive, name, '--from', 'docker-daemon:'], {
      env: { DOCKER_HOST: podman.dockerHost },
    });
    expect(saved.exitCode, saved.stderr).toBe(0);
    const renamed = 'localhost/daemon-interrupt/never:1.0';
    const child = start([
      'copy',
      name,
      renamed,
      '--from',
      `archive:${archive}`,
      '--to',
      'docker-daemon:',
    ]);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor(() => stderr.includes('copying'));
    await interrupt(child);
    expect(existsSync(archive)).toBe(true);
    expect(await daemonImageNames(podman.socket)).not.toContain(renamed);
  });
});
