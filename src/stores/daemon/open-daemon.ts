import type { Logger } from '../../core/logger.js';
import type { ArchiveAccess } from './archive-access.js';
import { DaemonStore } from './daemon-store.js';
import { parseDockerHost } from './docker-host.js';
import { EngineClient } from './engine-client.js';

export interface OpenDaemonOptions {
  mode: 'read' | 'write';
  env: NodeJS.ProcessEnv;
  logger?: Logger;
  signal?: AbortSignal;
}

/**
 * openDaemonStore connects to the daemon DOCKER_HOST names (else /var/run/docker.sock) and
 * agrees on an API version, so that an unreachable daemon fails before any work starts.
 */
export async function openDaemonStore(
  archives: ArchiveAccess,
  options: OpenDaemonOptions,
): Promise<DaemonStore> {
  const client = new EngineClient(parseDockerHost(options.env), options);
  const store = new DaemonStore(client, archives, options);
  try {
    await store.connect();
  } catch (error) {
    await client.close();
    throw error;
  }
  return store;
}
