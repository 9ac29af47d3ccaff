import { AuthError, UsageError } from '../../core/errors.js';
import { helperErase, helperGet, helperStore } from './credential-helper.js';
import {
  authKeyFor,
  authKeyHost,
  dockerConfigPath,
  findAuthKey,
  helperFor,
  readDockerConfig,
  writeDockerConfig,
  type DockerConfig,
} from './docker-config.js';

/** A user name and secret for one registry. An identity token has the user name `<token>`. */
export interface Credentials {
  username: string;
  password: string;
}

/** parseCreds reads `--creds USER:PASS`; the password may hold colons. */
export function parseCreds(text: string): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0) {
    throw new UsageError('CREDS_INVALID', '--creds must be USER:PASSWORD', {
      hint: 'for example --creds alice:secret, or store them once with regtool login HOST',
    });
  }
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** decodeAuth reads an `auth` value, USER:PASSWORD in base64; the value never reaches a message. */
function decodeAuth(auth: unknown, path: string, key: string): Credentials {
  const decoded =
    typeof auth === 'string' && base64.test(auth.trim())
      ? Buffer.from(auth.trim(), 'base64').toString('utf8')
      : '';
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw new AuthError(
      'AUTH_ENTRY_INVALID',
      `the "auth" entry for ${key} in ${path} is not base64 of USER:PASSWORD`,
      {
        hint: `run regtool login ${authKeyHost(key)} again, or remove the entry`,
      },
    );
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function fromAuthEntry(
  config: DockerConfig,
  key: string | undefined,
  path: string,
): Credentials | undefined {
  const entry = key === undefined ? undefined : config.auths?.[key];
  if (entry === undefined || key === undefined) return undefined;
  if (entry.identitytoken) return { username: '<token>', password: entry.identitytoken };
  if (entry.auth !== undefined && entry.auth !== '') return decodeAuth(entry.auth, path, key);
  if (entry.username && entry.password)
    return { username: entry.username, password: entry.password };
  return undefined;
}

async function fromConfig(
  config: DockerConfig,
  host: string,
  path: string,
): Promise<Credentials | undefined> {
  const helper = helperFor(config, host);
  const inline = fromAuthEntry(config, findAuthKey(config.auths, host), path);
  // A host-specific helper wins over the file; the global credsStore only fills gaps.
  const specific = helper !== undefined && helper !== config.credsStore;
  if (inline && !specific) return inline;
  if (helper !== undefined) return (await helperGet(helper, authKeyFor(host))) ?? inline;
  return inline;
}

/**
 * lookupCredentials finds a registry's credentials: `--creds`, then `$REGISTRY_AUTH_FILE`,
 * then Docker's config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`) through its
 * credHelpers, auths and credsStore. Undefined means anonymous.
 */
export async function lookupCredentials(
  host: string,
  env: NodeJS.ProcessEnv,
  creds?: string,
): Promise<Credentials | undefined> {
  if (creds !== undefined) return parseCreds(creds);
  if (env.REGISTRY_AUTH_FILE) {
    const path = env.REGISTRY_AUTH_FILE;
    const found = await fromConfig(await readDockerConfig(path), host, path);
    if (found) return found;
  }
  const path = dockerConfigPath(env);
  return fromConfig(await readDockerConfig(path), host, path);
}

/** Where login put the credentials: a config file, or a credential helper. */
export type StoredIn = { kind: 'file'; path: string } | { kind: 'helper'; helper: string };

/** saveCredentials stores credentials the way docker login does. */
export async function saveCredentials(
  host: string,
  credentials: Credentials,
  env: NodeJS.ProcessEnv,
): Promise<StoredIn> {
  const path = dockerConfigPath(env);
  const config = await readDockerConfig(path);
  const helper = helperFor(config, host);
  if (helper !== undefined) {
    await helperStore(helper, authKeyFor(host), credentials);
    return { kind: 'helper', helper };
  }
  const auths = { ...config.auths };
  const existing = findAuthKey(auths, host);
  if (existing !== undefined) delete auths[existing];
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  auths[authKeyFor(host)] = { auth };
  await writeDockerConfig(path, { ...config, auths });
  return { kind: 'file', path };
}

/** eraseCredentials removes a registry's credentials; false when none were stored. */
export async function eraseCredentials(host: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const path = dockerConfigPath(env);
  const config = await readDockerConfig(path);
  const helper = helperFor(config, host);
  let erased = helper !== undefined && (await helperErase(helper, authKeyFor(host)));
  const key = findAuthKey(config.auths, host);
  if (key !== undefined) {
    const auths = { ...config.auths };
    delete auths[key];
    await writeDockerConfig(path, { ...config, auths });
    erased = true;
  }
  return erased;
}
