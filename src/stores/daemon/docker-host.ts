import { homedir } from 'node:os';
import { join } from 'node:path';

import { UnsupportedError, UsageError } from '../../core/errors.js';

/** The default Engine API socket, used when DOCKER_HOST is unset or empty. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Where the Engine API listens: a unix socket, or a plain TCP address. */
export interface EngineEndpoint {
  /** The socket path for a unix endpoint. */
  socketPath?: string;
  /** The HTTP origin requests are addressed to (a placeholder host for a unix socket). */
  origin: string;
  /** What the endpoint is, for messages: `unix:///var/run/docker.sock`, `tcp://host:2375`. */
  display: string;
  /** Whether the endpoint came from DOCKER_HOST, so that messages can say where it was set. */
  fromEnv: boolean;
  /** For TCP with DOCKER_TLS_VERIFY: the folder of ca.pem, cert.pem and key.pem. */
  tlsCertPath?: string;
}

/**
 * parseDockerHost reads DOCKER_HOST (`unix:///path`, `tcp://host:port`, `http://host:port`),
 * or the default socket when it is unset.
 */
export function parseDockerHost(env: NodeJS.ProcessEnv): EngineEndpoint {
  const value = env.DOCKER_HOST?.trim() ?? '';
  if (value === '') return unixEndpoint(DEFAULT_DOCKER_SOCKET, false);
  if (value.startsWith('unix://')) return unixEndpoint(required(value.slice(7), value), true);
  if (value.startsWith('/')) return unixEndpoint(value, true);
  if (value.startsWith('tcp://') || value.startsWith('http://')) {
    return tcpEndpoint(value.slice(value.indexOf('://') + 3), env, value);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1];
  if (scheme !== undefined) {
    throw new UnsupportedError(
      'DAEMON_HOST_UNSUPPORTED',
      `DOCKER_HOST=${value}: the ${scheme}:// transport is not supported`,
      { hint: 'set DOCKER_HOST to unix:///path/to/docker.sock or tcp://HOST:PORT' },
    );
  }
  throw invalidHost(value);
}

function unixEndpoint(socketPath: string, fromEnv: boolean): EngineEndpoint {
  return { socketPath, origin: 'http://localhost', display: `unix://${socketPath}`, fromEnv };
}

function tcpEndpoint(rest: string, env: NodeJS.ProcessEnv, value: string): EngineEndpoint {
  const hostPort = required(rest.replace(/\/+$/, ''), value);
  if (!/^(\[[0-9a-f:.]+\]|[^/:[\]]+):\d+$/i.test(hostPort)) throw invalidHost(value);
  const display = `tcp://${hostPort}`;
  // As with the docker CLI, any non-empty DOCKER_TLS_VERIFY turns on verified TLS.
  if ((env.DOCKER_TLS_VERIFY ?? '') === '') {
    return { origin: `http://${hostPort}`, display, fromEnv: true };
  }
  const tlsCertPath = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  return { origin: `https://${hostPort}`, display, fromEnv: true, tlsCertPath };
}

function required(part: string, value: string): string {
  if (part === '') throw invalidHost(value);
  return part;
}

function invalidHost(value: string): UsageError {
  return new UsageError('DAEMON_HOST_INVALID', `DOCKER_HOST=${value} is not a daemon address`, {
    hint: 'set DOCKER_HOST to unix:///path/to/docker.sock or tcp://HOST:PORT',
  });
}
