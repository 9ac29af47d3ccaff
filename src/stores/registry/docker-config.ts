import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import { UsageError } from '../../core/errors.js';

/** One `auths` entry of a Docker (or podman auth.json) config file. */
export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** The parts of Docker's config.json that hold credentials; other keys are kept untouched. */
export interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/** dockerConfigPath is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

/** readDockerConfig reads a config file; a missing file is an empty config. */
export async function readDockerConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error();
    return value as DockerConfig;
  } catch (error) {
    throw new UsageError('DOCKER_CONFIG_INVALID', `${path} is not a valid JSON config file`, {
      hint: 'fix or remove the file, then run regtool login again',
      cause: error,
    });
  }
}

/** writeDockerConfig replaces the file atomically, readable by its owner only (0600). */
export async function writeDockerConfig(path: string, config: DockerConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

const dockerHubAliases = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** authKeyHost reduces an `auths` key (`https://index.docker.io/v1/`, `host:5000`) to a host. */
export function authKeyHost(key: string): string {
  const host = key
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
  return dockerHubAliases.has(host) ? 'docker.io' : host;
}

/** authKeyFor is the key Docker writes for a registry: Docker Hub keeps its legacy URL. */
export function authKeyFor(host: string): string {
  return authKeyHost(host) === 'docker.io' ? 'https://index.docker.io/v1/' : host;
}

/** findAuthKey finds the `auths` key that names a host, whatever form it was written in. */
export function findAuthKey(
  auths: Record<string, AuthEntry> | undefined,
  host: string,
): string | undefined {
  const wanted = authKeyHost(host);
  return Object.keys(auths ?? {}).find((key) => authKeyHost(key) === wanted);
}

/** helperFor names the credential helper configured for a host, if any. */
export function helperFor(config: DockerConfig, host: string): string | undefined {
  const wanted = authKeyHost(host);
  const specific = Object.entries(config.credHelpers ?? {}).find(
    ([key]) => authKeyHost(key) === wanted,
  );
  return specific?.[1] ?? config.credsStore;
}
