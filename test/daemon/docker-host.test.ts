import { homedir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { UnsupportedError, UsageError } from '../../src/core/errors.js';
import { DEFAULT_DOCKER_SOCKET, parseDockerHost } from '../../src/stores/daemon/docker-host.js';

describe('parseDockerHost', () => {
  it('uses the default socket when DOCKER_HOST is unset or empty', () => {
    for (const env of [{}, { DOCKER_HOST: '' }]) {
      expect(parseDockerHost(env)).toEqual({
        socketPath: DEFAULT_DOCKER_SOCKET,
        origin: 'http://localhost',
        display: `unix://${DEFAULT_DOCKER_SOCKET}`,
        fromEnv: false,
      });
    }
  });

  it('reads a unix socket', () => {
    const endpoint = parseDockerHost({ DOCKER_HOST: 'unix:///run/podman/podman.sock' });
    expect(endpoint.socketPath).toBe('/run/podman/podman.sock');
    expect(endpoint.display).toBe('unix:///run/podman/podman.sock');
    expect(endpoint.fromEnv).toBe(true);
  });

  it('reads a TCP address', () => {
    for (const value of [
      'tcp://127.0.0.1:2375',
      'tcp://127.0.0.1:2375/',
      'http://127.0.0.1:2375',
    ]) {
      const endpoint = parseDockerHost({ DOCKER_HOST: value });
      expect(endpoint.socketPath).toBeUndefined();
      expect(endpoint.origin).toBe('http://127.0.0.1:2375');
      expect(endpoint.display).toBe('tcp://127.0.0.1:2375');
    }
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://[::1]:2375' }).origin).toBe('http://[::1]:2375');
  });

  it('turns on TLS with DOCKER_TLS_VERIFY, with certificates from DOCKER_CERT_PATH or ~/.docker', () => {
    const env = { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1' };
    const endpoint = parseDockerHost({ ...env, DOCKER_CERT_PATH: '/certs/client' });
    expect(endpoint.origin).toBe('https://127.0.0.1:2376');
    expect(endpoint.tlsCertPath).toBe('/certs/client');
    expect(parseDockerHost(env).tlsCertPath).toBe(join(homedir(), '.docker'));
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }).tlsCertPath).toBeUndefined();
  });

  it('refuses an address it cannot use, saying why', () => {
    expect(() => parseDockerHost({ DOCKER_HOST: 'tcp://host' })).toThrow(UsageError);
    expect(() => parseDockerHost({ DOCKER_HOST: 'unix://' })).toThrow(UsageError);
    expect(() => parseDockerHost({ DOCKER_HOST: 'banana' })).toThrow(/DOCKER_HOST=banana/);
    expect(() => parseDockerHost({ DOCKER_HOST: 'ssh://me@host' })).toThrow(UnsupportedError);
    expect(() => parseDockerHost({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' })).toThrow(
      /npipe/,
    );
  });
});
