import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { UsageError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ArchiveAccess } from './archive-access.js';
import { DaemonStore } from './daemon-store.js';
import { parseDockerHost } from './docker-host.js';
import { EngineClient } from './engine-client.js';
import type { DaemonCertificates } from './http-exchange.js';

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
  const endpoint = parseDockerHost(options.env);
  const certificates =
    endpoint.tlsCertPath === undefined ? undefined : await readCertificates(endpoint.tlsCertPath);
  const client = new EngineClient(endpoint, { ...options, certificates });
  const store = new DaemonStore(client, archives, options);
  try {
    await store.connect();
  } catch (error) {
    await client.close();
    throw error;
  }
  return store;
}

/** readCertificates reads ca.pem, cert.pem and key.pem, as the docker CLI does. */
async function readCertificates(dir: string): Promise<DaemonCertificates> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name));
    } catch (error) {
      throw new UsageError(
        'DAEMON_TLS_FILES',
        `DOCKER_TLS_VERIFY is set, but ${join(dir, name)} cannot be read`,
        {
          hint: 'set DOCKER_CERT_PATH to the folder of ca.pem, cert.pem and key.pem',
          cause: error,
        },
      );
    }
  };
  const [ca, cert, key] = await Promise.all(['ca.pem', 'cert.pem', 'key.pem'].map(read));
  return { ca: ca!, cert: cert!, key: key! };
}
