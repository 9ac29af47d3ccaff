import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';
import {
  pushFixtureImages,
  startPodmanService,
  startRegistry,
  type FixtureImages,
  type PodmanPeer,
  type RegistryPeer,
} from '../peers/index.js';
import { daemonImageNames, daemonRequest, importImage } from './daemon-helpers.js';

let podman: PodmanPeer;
let registry: RegistryPeer;
let images: FixtureImages;
let scratch: string;

beforeAll(async () => {
  [podman, registry] = await Promise.all([startPodmanService(), startRegistry({ auth: 'none' })]);
  images = await pushFixtureImages(registry);
  scratch = tempDir('regtool-daemon-cli-');
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function regtool(args: string[], dockerHost = podman.dockerHost) {
  return runRegtool(args, {
    env: { DOCKER_HOST: dockerHost, REGTOOL_HOME: join(scratch, 'home') },
  });
}

/** registryConfigDigest reads the config digest of an image manifest straight from the registry. */
async function registryConfigDigest(repository: string, tag: string): Promise<string> {
  const response = await fetch(`http://${registry.url}/v2/${repository}/manifests/${tag}`, {
    headers: {
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { config: { digest: string } }).config.digest;
}

async function daemonImageId(name: string): Promise<string> {
  const answer = await daemonRequest(podman.socket, 'GET', `/v1.41/images/${name}/json`);
  expect(answer.status).toBe(200);
  return (JSON.parse(answer.text) as { Id: string }).Id;
}

describe('regtool with docker-daemon:', () => {
  it('copies from a registry into the daemon and back, keeping the config digest', async () => {
    const original = await registryConfigDigest('tools', '1.0');
    const into = await regtool(['copy', images.tools.reference, '--to', 'docker-daemon:']);
    expect(into.exitCode).toBe(0);
    expect(await daemonImageId(images.tools.reference)).toBe(original);

    const back = `${registry.url}/daemon-cli/tools:1.0`;
    const out = await regtool([
      'copy',
      images.tools.reference,
      back,
      '--from',
      'docker-daemon:',
      '--to',
      `registry://${registry.url}`,
    ]);
    expect(out.exitCode).toBe(0);
    expect(await registryConfigDigest('daemon-cli/tools', '1.0')).toBe(original);
  });

  it('lists what the daemon holds', async () => {
    await regtool(['copy', images.busybox.reference, '--to', 'docker-daemon:']);
    const listed = await regtool(['--json', 'ls', 'docker-daemon:']);
    expect(listed.exitCode).toBe(0);
    const names = (JSON.parse(listed.stdout) as { images: Array<{ name: string }> }).images;
    expect(names.map((image) => image.name)).toContain(images.busybox.reference);
  });

  it('exits 7 naming the socket and DOCKER_HOST, and writes no file, with no daemon', async () => {
    const output = join(scratch, 'none.tar');
    const socket = join(scratch, 'nosuch.sock');
    const result = await regtool(
      ['save', '-o', output, images.tools.reference, '--from', 'docker-daemon:'],
      `unix://${socket}`,
    );
    expect(result.exitCode).toBe(7);
    expect(result.stderr).toContain(socket);
    expect(result.stderr).toContain('DOCKER_HOST');
    expect(existsSync(output)).toBe(false);
  });

  it('exits 3 and writes no file when the daemon lacks one of the images', async () => {
    const output = join(scratch, 'partial.tar');
    await regtool(['copy', images.busybox.reference, '--to', 'docker-daemon:']);
    const result = await regtool([
      'save',
      '-o',
      output,
      images.busybox.reference,
      `${registry.url}/daemon-cli/missing:1.0`,
      '--from',
      'docker-daemon:',
    ]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('daemon-cli/missing:1.0');
    expect(existsSync(output)).toBe(false);
    expect((await readdir(scratch)).filter((name) => name.includes('partial.tar'))).toEqual([]);
  });

  it('is either end of migrate', async () => {
    const fixtures = `dir:${join(projectRoot, 'fixtures/images')}`;
    const into = await regtool([
      'migrate',
      '--from',
      fixtures,
      '--to',
      'docker-daemon:',
      '--include',
      'docker.io/library/links:*',
    ]);
    expect(into.exitCode).toBe(0);
    expect(await daemonImageId('docker.io/library/links:1.0')).toMatch(/^sha256:/);

    const layout = join(scratch, 'migrated');
    const out = await regtool([
      'migrate',
      '--from',
      'docker-daemon:',
      '--to',
      `dir:${layout}`,
      '--include',
      'docker.io/library/links:*',
    ]);
    expect(out.exitCode).toBe(0);
    const listed = await regtool(['--json', 'ls', `dir:${layout}`]);
    const names = (JSON.parse(listed.stdout) as { images: Array<{ name: string }> }).images;
    expect(names.map((image) => image.name)).toEqual(['docker.io/library/links:1.0']);
  });

  it('removes an image from the daemon, and says so for one it lacks', async () => {
    const name = 'localhost/daemon-cli/removed:1.0';
    const id = await importImage(podman.socket, name);
    const removed = await regtool(['--json', 'rm', name, '--from', 'docker-daemon:']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ removed: [{ name, digest: id }] });
    expect(await daemonImageNames(podman.socket)).not.toContain(name);

    const again = await regtool(['rm', name, '--from', 'docker-daemon:']);
    expect(again.exitCode).toBe(3);
  });
});
