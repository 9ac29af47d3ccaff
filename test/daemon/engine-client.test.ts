import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NetworkError, NotFoundError, UnsupportedError } from '../../src/core/errors.js';
import { parseDockerHost } from '../../src/stores/daemon/docker-host.js';
import { EngineClient } from '../../src/stores/daemon/engine-client.js';
import { startPodmanService, type PodmanPeer } from '../peers/index.js';

let podman: PodmanPeer;
let scratch: string;

beforeAll(async () => {
  podman = await startPodmanService();
  scratch = await mkdtemp(join(tmpdir(), 'regtool-engine-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function clientFor(dockerHost: string): EngineClient {
  return new EngineClient(parseDockerHost({ DOCKER_HOST: dockerHost }));
}

describe('EngineClient against podman', () => {
  it('negotiates the API version podman speaks', async () => {
    const client = clientFor(podman.dockerHost);
    expect(await client.apiVersion()).toBe('1.41');
    await client.close();
  });

  it('maps an unknown image to a NotFoundError', async () => {
    const client = clientFor(podman.dockerHost);
    const request = client.send({
      path: '/images/127.0.0.1:5999/no/such:1/json',
      lookup: true,
      what: 'finding no/such:1',
    });
    await expect(request).rejects.toThrow(NotFoundError);
    await client.close();
  });
});

describe('EngineClient when the daemon is not there', () => {
  it('names a missing socket and DOCKER_HOST, as a network error', async () => {
    const client = clientFor(`unix://${join(scratch, 'nosuch.sock')}`);
    const error = await client.apiVersion().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).exitCode).toBe(7);
    expect((error as Error).message).toContain(join(scratch, 'nosuch.sock'));
    expect((error as Error).message).toContain('DOCKER_HOST');
    expect((error as Error).message).toContain('no such socket');
    await client.close();
  });

  it('names a socket nobody listens on', async () => {
    const dead = join(scratch, 'dead.sock');
    await writeFile(dead, '');
    const client = clientFor(`unix://${dead}`);
    await expect(client.apiVersion()).rejects.toThrow(/dead\.sock.*connection refused/);
    await client.close();
  });

  it('says the default socket was used when DOCKER_HOST is unset', async () => {
    const client = new EngineClient({
      ...parseDockerHost({}),
      socketPath: join(scratch, 'x.sock'),
    });
    await expect(client.apiVersion()).rejects.toThrow(/DOCKER_HOST is unset/);
    await client.close();
  });
});

/** A daemon that reports an Engine API version of its choosing, over TCP; records the paths. */
async function startDaemonOfVersion(apiVersion: string) {
  const paths: string[] = [];
  const server: Server = createServer((request, response) => {
    paths.push(request.url ?? '');
    response.setHeader('content-type', 'application/json');
    if (request.url === '/version') response.end(JSON.stringify({ ApiVersion: apiVersion }));
    else response.end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    paths,
    dockerHost: `tcp://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('EngineClient version negotiation over TCP', () => {
  it('speaks an older daemon its own version', async () => {
    const daemon = await startDaemonOfVersion('1.30');
    const client = clientFor(daemon.dockerHost);
    await client.getJson('/images/json', 'listing');
    expect(daemon.paths).toEqual(['/version', '/v1.30/images/json']);
    await client.close();
    await daemon.close();
  });

  it('caps a newer daemon at the version regtool speaks', async () => {
    const daemon = await startDaemonOfVersion('1.47');
    const client = clientFor(daemon.dockerHost);
    expect(await client.apiVersion()).toBe('1.41');
    await client.close();
    await daemon.close();
  });

  it('refuses a daemon older than API 1.24', async () => {
    const daemon = await startDaemonOfVersion('1.12');
    const client = clientFor(daemon.dockerHost);
    await expect(client.apiVersion()).rejects.toThrow(UnsupportedError);
    await client.close();
    await daemon.close();
  });
});
