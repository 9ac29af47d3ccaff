import { UsageError } from './errors.js';
import { isRegistryHost, isRepositoryPath } from './reference.js';

/** Where images are, as written on the command line with --from and --to. */
export type StoreAddress =
  | { kind: 'dir'; path?: string }
  | { kind: 'archive'; path: string }
  | { kind: 'registry'; host: string; prefix: string }
  | { kind: 's3'; bucket: string; prefix: string }
  | { kind: 'daemon' }
  | { kind: 'named'; name: string };

const archiveSuffix = /\.(tar|tar\.gz|tgz|tar\.zst|tar\.zstd|tar\.xz|tar\.bz2)$/i;

function required(value: string, what: string, example: string): string {
  if (value === '') {
    throw new UsageError('STORE_INVALID', `the store address needs ${what}`, {
      hint: `for example ${example}`,
    });
  }
  return value;
}

function splitHostPrefix(rest: string): { host: string; prefix: string } {
  const trimmed = rest.replace(/\/+$/, '');
  const slash = trimmed.indexOf('/');
  const host = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefix = slash === -1 ? '' : trimmed.slice(slash + 1);
  return { host, prefix };
}

/**
 * registryAddress checks a registry's host and prefix. The text is never echoed when it holds
 * `@`: that is `user:password@host`, and a password must not reach the terminal or a log.
 */
function registryAddress(rest: string): { host: string; prefix: string } {
  if (rest.includes('@')) {
    throw new UsageError('STORE_INVALID', 'a registry:// address cannot hold credentials', {
      hint: 'remove user:password@ from the address; use regtool login HOST or --creds instead',
    });
  }
  const { host, prefix } = splitHostPrefix(rest);
  required(host, 'a host', 'registry://127.0.0.1:5000/team');
  if (!isRegistryHost(host)) {
    throw new UsageError('STORE_INVALID', `"${host}" is not a valid registry host`, {
      hint: 'write HOST or HOST:PORT with a port from 1 to 65535, e.g. registry://127.0.0.1:5000',
    });
  }
  if (prefix !== '' && !isRepositoryPath(prefix)) {
    throw new UsageError('STORE_INVALID', `"${prefix}" is not a valid repository prefix`, {
      hint:
        'a prefix is lowercase path components of a-z 0-9 . _ - separated by /, e.g. ' +
        'registry://127.0.0.1:5000/team/images',
    });
  }
  return { host, prefix };
}

function s3Address(rest: string): { bucket: string; prefix: string } {
  const { host, prefix } = splitHostPrefix(rest);
  return { bucket: required(host, 'a bucket', 's3://my-bucket/images'), prefix };
}

/**
 * parseStoreAddress reads a store address: `dir`, `dir:PATH`, `archive:PATH` (or a bare path
 * ending in .tar, .tar.gz, .tgz or .tar.zst), `registry://HOST[:PORT][/PREFIX]`,
 * `s3://BUCKET[/PREFIX]`, `docker-daemon:` or `daemon`, or the name of a configured store.
 */
export function parseStoreAddress(text: string): StoreAddress {
  if (text === 'dir') return { kind: 'dir' };
  if (text.startsWith('dir:'))
    return { kind: 'dir', path: required(text.slice(4), 'a path', 'dir:./images') };
  if (text.startsWith('oci:'))
    return { kind: 'dir', path: required(text.slice(4), 'a path', 'oci:./images') };
  if (text.startsWith('archive:')) {
    return { kind: 'archive', path: required(text.slice(8), 'a file', 'archive:images.tar') };
  }
  if (text.startsWith('registry://'))
    return { kind: 'registry', ...registryAddress(text.slice(11)) };
  if (text.startsWith('docker://')) return { kind: 'registry', ...registryAddress(text.slice(9)) };
  if (text.startsWith('s3://')) return { kind: 's3', ...s3Address(text.slice(5)) };
  if (text === 'docker-daemon:' || text === 'docker-daemon' || text === 'daemon')
    return { kind: 'daemon' };
  if (archiveSuffix.test(text) || text === '-') return { kind: 'archive', path: text };
  if (/^[A-Za-z][\w.-]*$/.test(text)) return { kind: 'named', name: text };
  // Whatever scheme it has, user:password@ in it is not echoed.
  const shown = text.replace(/\/\/[^/]*@/, '//…@');
  throw new UsageError('STORE_INVALID', `"${shown}" is not a store address`, {
    hint:
      'use dir, dir:PATH, archive:FILE, registry://HOST[/PREFIX], s3://BUCKET[/PREFIX], ' +
      'docker-daemon: or a configured store name',
  });
}

/** formatStoreAddress writes an address back in its canonical form. */
export function formatStoreAddress(address: StoreAddress): string {
  switch (address.kind) {
    case 'dir':
      return address.path === undefined ? 'dir' : `dir:${address.path}`;
    case 'archive':
      return `archive:${address.path}`;
    case 'registry':
      return `registry://${address.host}${address.prefix ? `/${address.prefix}` : ''}`;
    case 's3':
      return `s3://${address.bucket}${address.prefix ? `/${address.prefix}` : ''}`;
    case 'daemon':
      return 'docker-daemon:';
    case 'named':
      return address.name;
  }
}
