import { request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ensurePeer, stopPeer, type StartingPeer } from './peer-dir.js';
import { requireCommand, spawnDaemon, waitUntil } from './processes.js';

export interface PodmanData {
  /** Path of the API's unix socket. */
  socket: string;
  /** The same, as a Docker client wants it in DOCKER_HOST: `unix://…`. */
  dockerHost: string;
}

/** A running podman API service. `stop()` is for tests that need it gone early. */
export interface PodmanPeer extends PodmanData {
  stop(): Promise<void>;
}

const PEER_NAME = 'podman';
const START_TIMEOUT_MS = 20_000;

// Registry ports are picked at run time, so the entry names the host alone. podman 4.3 lets
// `127.0.0.1` match `127.0.0.1:PORT` (containers/image matches a location as a prefix that
// ends before ':', '/' or '@'); the test of this service checks that it still does.
const REGISTRIES_CONF = `unqualified-search-registries = []

[[registry]]
location = "127.0.0.1"
insecure = true

[[registry]]
location = "localhost"
insecure = true
`;

/** pingSocket: GET /_ping on the unix socket answers 200. */
export function pingSocket(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ping = request({ socketPath: socket, path: '/_ping', timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    ping.on('error', () => resolve(false));
    ping.on('timeout', () => ping.destroy());
    ping.end();
  });
}

async function startPodman(peer: StartingPeer): Promise<PodmanData> {
  await requireCommand('podman', 'podman');
  const socket = join(peer.dir, 'podman.sock');
  const registriesConf = join(peer.dir, 'registries.conf');
  await writeFile(registriesConf, REGISTRIES_CONF);
  const tmpDir = join(peer.dir, 'tmp');
  await mkdir(tmpDir);
  const logFile = join(peer.dir, 'service.log');
  // prettier-ignore
  const args = [
    '--root', join(peer.dir, 'root'),
    '--runroot', join(peer.dir, 'runroot'),
    '--tmpdir', tmpDir,
    '--storage-driver', 'vfs',
    'system', 'service', '--time=0', `unix://${socket}`,
  ];
  const pid = spawnDaemon('podman', args, {
    logFile,
    env: { ...process.env, CONTAINERS_REGISTRIES_CONF: registriesConf, TMPDIR: tmpDir },
  });
  await peer.track({ pid, command: 'podman' });
  await waitUntil(() => pingSocket(socket), {
    what: `podman service on ${socket}`,
    logFile,
    timeoutMs: START_TIMEOUT_MS,
    pid,
    command: 'podman',
  });
  return { socket, dockerHost: `unix://${socket}` };
}

/**
 * startPodmanService returns podman's Docker-compatible API, started on first use and shared by
 * every test file of the run. Its image store lives in the peer directory (vfs driver), and it
 * pulls from any registry on 127.0.0.1 or localhost over plain HTTP.
 */
export async function startPodmanService(): Promise<PodmanPeer> {
  const record = await ensurePeer<PodmanData>(PEER_NAME, {
    isHealthy: (existing) => pingSocket(existing.data.socket),
    start: startPodman,
  });
  return { ...record.data, stop: () => stopPeer(PEER_NAME) };
}
