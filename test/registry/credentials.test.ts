import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { AuthError } from '../../src/core/errors.js';
import {
  eraseCredentials,
  lookupCredentials,
  parseCreds,
  saveCredentials,
} from '../../src/stores/registry/credentials.js';
import { tempDir } from '../helpers/cli.js';

const basic = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');

/** A real credential helper: a tiny script keeping one JSON file per server in its folder. */
async function installHelper(name: string): Promise<{ path: string; store: string }> {
  const bin = tempDir();
  const store = join(bin, 'store');
  await mkdir(store);
  const script = `#!/usr/bin/env node
const fs = require('fs'); const path = require('path');
const input = fs.readFileSync(0, 'utf8').trim();
const file = (server) => path.join(${JSON.stringify(store)}, encodeURIComponent(server));
const action = process.argv[2];
if (action === 'store') { const c = JSON.parse(input); fs.writeFileSync(file(c.ServerURL), input); process.exit(0); }
if (!fs.existsSync(file(input))) { console.log('credentials not found in native keychain'); process.exit(1); }
if (action === 'get') { const c = JSON.parse(fs.readFileSync(file(input), 'utf8')); console.log(JSON.stringify({ ServerURL: input, Username: c.Username, Secret: c.Secret })); }
if (action === 'erase') fs.unlinkSync(file(input));
`;
  await writeFile(join(bin, `docker-credential-${name}`), script);
  await chmod(join(bin, `docker-credential-${name}`), 0o755);
  return { path: `${bin}:${process.env.PATH}`, store };
}

async function dockerConfig(config: object): Promise<string> {
  const dir = tempDir();
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('credentials', () => {
  it('reads --creds with colons in the password, and refuses a value without one', () => {
    expect(parseCreds('u:p:q')).toEqual({ username: 'u', password: 'p:q' });
    expect(() => parseCreds('nopassword')).toThrow(/USER:PASSWORD/);
  });

  it('finds auths entries by host, whatever form the key has', async () => {
    const dir = await dockerConfig({
      auths: {
        'https://index.docker.io/v1/': { auth: basic('hub', 'h') },
        'http://reg.example:5000': { auth: basic('reg', 'r') },
      },
    });
    const env = { DOCKER_CONFIG: dir };
    expect(await lookupCredentials('docker.io', env)).toEqual({ username: 'hub', password: 'h' });
    expect(await lookupCredentials('reg.example:5000', env)).toEqual({
      username: 'reg',
      password: 'r',
    });
    expect(await lookupCredentials('other.example', env)).toBeUndefined();
  });

  it('prefers --creds, then $REGISTRY_AUTH_FILE, then the Docker config', async () => {
    const docker = await dockerConfig({ auths: { 'r.example': { auth: basic('docker', 'd') } } });
    const podman = join(
      await dockerConfig({ auths: { 'r.example': { auth: basic('podman', 'p') } } }),
      'config.json',
    );
    const env = { DOCKER_CONFIG: docker, REGISTRY_AUTH_FILE: podman };
    expect((await lookupCredentials('r.example', env))?.username).toBe('podman');
    expect((await lookupCredentials('r.example', env, 'flag:f'))?.username).toBe('flag');
    expect((await lookupCredentials('r.example', { DOCKER_CONFIG: docker }))?.username).toBe(
      'docker',
    );
  });

  it('uses credHelpers and credsStore through docker-credential-* programs', async () => {
    const helper = await installHelper('fake');
    const dir = await dockerConfig({ credHelpers: { 'r.example': 'fake' } });
    const env = { DOCKER_CONFIG: dir, PATH: helper.path };
    process.env.PATH = helper.path;
    const stored = await saveCredentials('r.example', { username: 'u', password: 's3cret' }, env);
    expect(stored).toEqual({ kind: 'helper', helper: 'fake' });
    expect(await lookupCredentials('r.example', env)).toEqual({
      username: 'u',
      password: 's3cret',
    });
    expect(await readFile(join(dir, 'config.json'), 'utf8')).not.toContain('s3cret');
    expect(await eraseCredentials('r.example', env)).toBe(true);
    expect(await lookupCredentials('r.example', env)).toBeUndefined();
  });

  it('says which helper is missing, without credentials in the message', async () => {
    const dir = await dockerConfig({ credsStore: 'not-installed' });
    const failure = await lookupCredentials('r.example', { DOCKER_CONFIG: dir }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(AuthError);
    expect((failure as AuthError).message).toContain('docker-credential-not-installed');
  });

  it('stores like docker login: base64 auth in config.json with mode 0600, other keys kept', async () => {
    const dir = await dockerConfig({
      auths: { 'https://r.example': { auth: basic('old', 'o') } },
      psFormat: 'x',
    });
    const env = { DOCKER_CONFIG: dir };
    await saveCredentials('r.example', { username: 'new', password: 'n' }, env);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config).toEqual({ auths: { 'r.example': { auth: basic('new', 'n') } }, psFormat: 'x' });
    expect((await stat(join(dir, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(await eraseCredentials('r.example', env)).toBe(true);
    expect(await eraseCredentials('r.example', env)).toBe(false);
  });
});
