import { UsageError } from './errors.js';

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
  return { host: required(host, 'a host', 'registry://127.0.0.1:5000/team'), prefix };
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
    return { kind: 'registry', ...splitHostPrefix(text.slice(11)) };
  if (text.startsWith('docker://')) return { kind: 'registry', ...splitHostPrefix(text.slice(9)) };
  if (text.startsWith('s3://')) {
    const { host, prefix } = splitHostPrefix(text.slice(5));
    return { kind: 's3', bucket: host, prefix };
  }
  if (text === 'docker-daemon:' || text === 'docker-daemon' || text === 'daemon')
    return { kind: 'daemon' };
  if (archiveSuffix.test(text) || text === '-') return { kind: 'archive', path: text };
  if (/^[A-Za-z][\w.-]*$/.test(text)) return { kind: 'named', name: text };
  throw new UsageError('STORE_INVALID', `"${text}" is not a store address`, {
    hint: 'use dir, dir:PATH, archive:FILE, registry://HOST[/PREFIX], s3://BUCKET[/PREFIX], docker-daemon: or a configured store name',
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
