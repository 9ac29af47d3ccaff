import { beforeAll, describe, expect, it } from 'vitest';

import { NetworkError, NotFoundError } from '../../src/core/errors.js';
import { parseReference } from '../../src/core/reference.js';
import type { ImageEntry } from '../../src/core/store.js';
import { daemonArchives } from '../../src/stores/daemon-archives.js';
import { openDaemonStore } from '../../src/stores/daemon/open-daemon.js';
import { startPodmanService, type PodmanPeer } from '../peers/index.js';
import { importImage } from './daemon-helpers.js';

let podman: PodmanPeer;

beforeAll(async () => {
  podman = await startPodmanService();
});

function openDaemon(mode: 'read' | 'write', dockerHost = podman.dockerHost) {
  return openDaemonStore(daemonArchives({}), { mode, env: { DOCKER_HOST: dockerHost } });
}

async function listAll(store: { listImages(): AsyncIterable<ImageEntry> }) {
  const entries: ImageEntry[] = [];
  for await (const entry of store.listImages()) entries.push(entry);
  return entries;
}

describe('the daemon store', () => {
  it('lists the images the daemon holds, by name and image ID', async () => {
    const id = await importImage(podman.socket, 'localhost/daemon-store/listed:1.0');
    const store = await openDaemon('read');
    const entries = await listAll(store);
    const entry = entries.find(
      (e) => e.reference?.toString() === 'localhost/daemon-store/listed:1.0',
    );
    expect(entry?.descriptor.digest).toBe(id);
    expect(store.location).toBe(`docker-daemon: (${podman.dockerHost})`);
    await store.close();
  });

  it('finds no image the daemon does not hold', async () => {
    const store = await openDaemon('read');
    const missing = parseReference('localhost/daemon-store/missing:1.0');
    await expect(store.resolve(missing)).rejects.toThrow(NotFoundError);
    await store.close();
  });

  it('fails to open, exit 7, when the socket is missing, naming it and DOCKER_HOST', async () => {
    const error = await openDaemon('read', 'unix:///tmp/regtool-no-such-daemon.sock').catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).exitCode).toBe(7);
    expect((error as Error).message).toMatch(/regtool-no-such-daemon\.sock.*DOCKER_HOST/);
  });
});
