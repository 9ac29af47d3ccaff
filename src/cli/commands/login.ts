import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

import { UsageError } from '../../core/errors.js';
import type { Context } from '../context.js';
import type { Register } from './index.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** prompt asks on the terminal; a secret is read without echo. */
async function prompt(question: string, secret: boolean): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new UsageError(
      'LOGIN_NO_TERMINAL',
      `login needs ${secret ? 'a password' : 'a user name'} and has no terminal to ask`,
      {
        hint: 'pass -u USER and --password-stdin',
      },
    );
  }
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk as Buffer);
      callback();
    },
  });
  const terminal = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = terminal.question(question);
    muted = secret;
    return await answer;
  } finally {
    terminal.close();
    if (secret) process.stderr.write('\n');
  }
}

async function verifyAndSave(context: Context, host: string, username: string, password: string) {
  const { canonicalDomain, RegistryClient, saveCredentials } = await loadRegistry();
  const domain = canonicalDomain(host);
  const client = await RegistryClient.create(domain, {
    ...context.registry,
    creds: `${username}:${password}`,
    logger: context.output.logger,
    signal: context.signal,
  });
  try {
    await client.verifyCredentials();
  } finally {
    await client.close();
  }
  return { domain, stored: await saveCredentials(domain, { username, password }, process.env) };
}

/** loadRegistry loads the registry client when a command needs it: undici is slow to load. */
async function loadRegistry() {
  const [credentials, client, store] = await Promise.all([
    import('../../stores/registry/credentials.js'),
    import('../../stores/registry/client.js'),
    import('../../stores/registry/registry-store.js'),
  ]);
  return {
    canonicalDomain: store.canonicalDomain,
    RegistryClient: client.RegistryClient,
    saveCredentials: credentials.saveCredentials,
    eraseCredentials: credentials.eraseCredentials,
  };
}

/** `regtool login HOST [-u USER] [--password-stdin]` and `regtool logout HOST`. */
export const registerLogin: Register = (program, run) => {
  program
    .command('login')
    .description('check credentials against a registry and store them as docker login does')
    .argument('<host>', 'the registry, e.g. ghcr.io or 127.0.0.1:5001')
    .option('-u, --username <user>', 'the user name (asked when missing)')
    .option('--password-stdin', 'read the password from stdin')
    .option('--insecure', 'allow plain HTTP and unverified TLS')
    .option('--ca-cert <file>', 'trust the CA certificates in this PEM file too')
    .action(
      run(async (context, [host], options) => {
        context.registry = {
          insecure: options.insecure === true,
          caCert: options.caCert as string | undefined,
        };
        const username =
          (options.username as string | undefined) ?? (await prompt('Username: ', false));
        const password = options.passwordStdin
          ? await readStdin()
          : await prompt('Password: ', true);
        if (username === '' || password === '') {
          throw new UsageError('LOGIN_EMPTY', 'the user name and password must not be empty', {
            hint: 'echo "$PASSWORD" | regtool login HOST -u USER --password-stdin',
          });
        }
        const { domain, stored } = await verifyAndSave(context, host!, username, password);
        const where = stored.kind === 'file' ? stored.path : `docker-credential-${stored.helper}`;
        context.output.result(
          { registry: domain, storedIn: where },
          () => `Login succeeded for ${domain} (stored in ${where})`,
        );
      }),
    );
  program
    .command('logout')
    .description('remove the stored credentials of a registry')
    .argument('<host>', 'the registry')
    .action(
      run(async (context, [host]) => {
        const { canonicalDomain, eraseCredentials } = await loadRegistry();
        const domain = canonicalDomain(host!);
        const removed = await eraseCredentials(domain, process.env);
        context.output.result({ registry: domain, removed }, () =>
          removed ? `Removed the credentials for ${domain}` : `Not logged in to ${domain}`,
        );
      }),
    );
};
