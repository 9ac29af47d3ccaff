import { resolveStoreEntry, type StoreEntry } from '../../core/config-schema.js';
import { formatStoreAddress } from '../../core/store-address.js';
import { loadConfig } from '../config.js';
import type { Register } from './index.js';

/** mask keeps enough of a key to tell which one it is, and never the rest. */
function mask(value: string): string {
  return value.length <= 8 ? '****' : `${value.slice(0, 4)}****`;
}

/** maskUrl hides a password written into a URL. */
function maskUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Where S3 credentials will come from, as the AWS SDK's default chain looks for them. */
function credentialSource(env: NodeJS.ProcessEnv): string {
  if (env.AWS_ACCESS_KEY_ID) {
    return (
      `environment (AWS_ACCESS_KEY_ID=${mask(env.AWS_ACCESS_KEY_ID)}, secret ` +
      `${env.AWS_SECRET_ACCESS_KEY ? 'set' : 'missing'})`
    );
  }
  const profile = env.AWS_PROFILE ?? 'default';
  const file = env.AWS_SHARED_CREDENTIALS_FILE ?? '~/.aws/credentials';
  return `profile ${profile} (${file}, ~/.aws/config), else the AWS default chain`;
}

function describeEntry(entry: StoreEntry, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const resolved = resolveStoreEntry(entry);
  const view: Record<string, unknown> = {
    type: entry.type,
    address: formatStoreAddress(resolved.address),
  };
  if (resolved.layout) view.layout = resolved.layout;
  if (entry.type === 's3') {
    view.endpoint = maskUrl(entry.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
    view.region = entry.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    view.credentials = credentialSource(env);
  }
  return view;
}

/** `regtool config`: the configuration file's path and the stores it names, secrets masked. */
export const registerConfig: Register = (program, run) => {
  program
    .command('config')
    .description('show the configuration file and the stores it names (secrets masked)')
    .action(
      run(async (context) => {
        const env = process.env;
        const loaded = loadConfig(env);
        const stores = Object.fromEntries(
          Object.entries(loaded.config.stores).map(([name, entry]) => [
            name,
            describeEntry(entry, env),
          ]),
        );
        const result = { path: loaded.path, exists: loaded.exists, stores };
        context.output.result(result, () => {
          const lines = [`${loaded.path}${loaded.exists ? '' : ' (does not exist)'}`];
          for (const [name, view] of Object.entries(stores)) {
            lines.push(`${name}: ${String(view.address)}`);
            for (const [key, value] of Object.entries(view)) {
              if (key !== 'address' && value !== undefined)
                lines.push(`  ${key}: ${String(value)}`);
            }
          }
          if (Object.keys(stores).length === 0) lines.push('no named stores');
          return lines.join('\n');
        });
      }),
    );
};
