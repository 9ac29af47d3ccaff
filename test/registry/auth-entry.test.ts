import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { AuthError } from '../../src/core/errors.js';
import { lookupCredentials } from '../../src/stores/registry/credentials.js';
import { runRegtool, tempDir } from '../helpers/cli.js';
import { startRegistry } from '../peers/index.js';

async function authFile(auths: object): Promise<string> {
  const path = join(tempDir(), 'auth.json');
  await writeFile(path, JSON.stringify({ auths }));
  return path;
}

async function failure(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    return error as AuthError;
  }
  throw new Error('no error');
}

describe('a malformed auth entry', () => {
  it.each([
    ['not base64', '!!!notbase64'],
    ['base64 without a colon', Buffer.from('useronly').toString('base64')],
    ['not a string', 42],
  ])('is an AuthError naming the file and the key (%s)', async (_what, auth) => {
    const path = await authFile({ '127.0.0.1:5152': { auth } });
    for (const env of [
      { REGISTRY_AUTH_FILE: path },
      { DOCKER_CONFIG: join(path, '..'), HOME: '/' },
    ]) {
      if ('DOCKER_CONFIG' in env)
        await writeFile(
          join(path, '../config.json'),
          JSON.stringify({ auths: { '127.0.0.1:5152': { auth } } }),
        );
      const error = await failure(lookupCredentials('127.0.0.1:5152', env));
      expect(error).toBeInstanceOf(AuthError);
      expect(error.exitCode).toBe(4);
      expect(error.message).toContain('127.0.0.1:5152');
      expect(error.message).toContain('DOCKER_CONFIG' in env ? 'config.json' : path);
      expect(`${error.message} ${error.hint}`).not.toContain(String(auth));
      expect(error.hint).toContain('regtool login 127.0.0.1:5152');
    }
  });

  it('does not matter for another registry', async () => {
    const path = await authFile({ '127.0.0.1:5152': { auth: '!!!' } });
    expect(
      await lookupCredentials('127.0.0.1:5153', { REGISTRY_AUTH_FILE: path, HOME: '/nonexistent' }),
    ).toBeUndefined();
  });

  it('makes a command against a registry that asks for credentials exit 4', async () => {
    const registry = await startRegistry({ auth: 'htpasswd' });
    const path = await authFile({ [registry.url]: { auth: '!!!notbase64' } });
    const result = await runRegtool(['ls', `registry://${registry.url}`], {
      env: { REGISTRY_AUTH_FILE: path, HOME: tempDir() },
    });
    expect(result.exitCode, result.stderr).toBe(4);
    expect(result.stderr).toContain(path);
    expect(result.stderr).toContain(`regtool login ${registry.url}`);
    expect(result.stderr).not.toContain('!!!notbase64');
  }, 60_000);
});
