import { execa } from 'execa';

import { AuthError } from '../../core/errors.js';
import type { Credentials } from './credentials.js';

function helperCommand(helper: string): string {
  return `docker-credential-${helper}`;
}

function helperFailure(helper: string, action: string, error: unknown): AuthError {
  const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
  // The helper's own output may echo what it was given, so only its exit status is reported.
  const status = (error as { exitCode?: number }).exitCode;
  return new AuthError(
    'CREDENTIAL_HELPER_FAILED',
    missing
      ? `the credential helper ${helperCommand(helper)} is not installed`
      : `the credential helper ${helperCommand(helper)} failed to ${action} (exit ${status})`,
    {
      hint: missing
        ? `install ${helperCommand(helper)}, or remove "${helper}" from credsStore/credHelpers ` +
          `in the Docker config`
        : `run ${helperCommand(helper)} by hand to see what it needs`,
    },
  );
}

/** helperGet asks a helper for a registry's credentials; undefined when it has none. */
export async function helperGet(
  helper: string,
  serverUrl: string,
): Promise<Credentials | undefined> {
  const result = await execa(helperCommand(helper), ['get'], {
    input: serverUrl,
    reject: false,
  });
  if (result.failed) {
    if (/credentials not found/i.test(`${result.stdout}${result.stderr}`)) return undefined;
    throw helperFailure(helper, 'read credentials', result);
  }
  const answer = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
  if (!answer.Secret) return undefined;
  return { username: answer.Username ?? '', password: answer.Secret };
}

/** helperStore hands credentials to a helper, on stdin so they never appear in a command line. */
export async function helperStore(helper: string, serverUrl: string, credentials: Credentials) {
  const input = JSON.stringify({
    ServerURL: serverUrl,
    Username: credentials.username,
    Secret: credentials.password,
  });
  try {
    await execa(helperCommand(helper), ['store'], { input });
  } catch (error) {
    throw helperFailure(helper, 'store credentials', error);
  }
}

/** helperErase removes a registry's credentials from a helper; false when it had none. */
export async function helperErase(helper: string, serverUrl: string): Promise<boolean> {
  const result = await execa(helperCommand(helper), ['erase'], { input: serverUrl, reject: false });
  if (!result.failed) return true;
  if (/credentials not found/i.test(`${result.stdout}${result.stderr}`)) return false;
  throw helperFailure(helper, 'erase credentials', result);
}
