import {
  resolveStoreEntry,
  type RegtoolConfig,
  type S3Connection,
  type StoreLayout,
} from '../core/config-schema.js';
import { UsageError } from '../core/errors.js';
import type { StoreAddress } from '../core/store-address.js';
import type { Store } from '../core/store.js';
import type { Logger } from '../core/logger.js';
import { LayoutStore } from './layout/layout-store.js';
import { defaultStorePath } from './layout/location.js';
import type { RegistryOptions } from './registry/client.js';

/** How a store is opened: for reading images out of it, or for writing images into it. */
export interface OpenStoreOptions {
  mode: 'read' | 'write';
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  signal?: AbortSignal;
  /** The layout a new dir or S3 store gets (`oci` by default); an existing one keeps its own. */
  layout?: StoreLayout;
  /** S3 endpoint, region and addressing, over the configuration file and the environment. */
  s3?: S3Connection;
  /** The configuration file that names stores, and where it was read from. */
  config?: { path: string; config: RegtoolConfig };
  /** --creds, --insecure and --ca-cert, for registry stores. */
  registry?: RegistryOptions;
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as T;
}

/** openNamedStore opens a store the configuration file names; flags win over its entry. */
function openNamedStore(name: string, options: OpenStoreOptions): Promise<Store> {
  const entry = options.config?.config.stores[name];
  if (entry === undefined) {
    const where = options.config?.path ?? 'the configuration file';
    throw new UsageError('STORE_UNKNOWN', `no store is named "${name}" in ${where}`, {
      hint:
        'name it there under "stores", or use dir, dir:PATH, archive:FILE, registry://HOST ' +
        'or s3://BUCKET',
    });
  }
  const resolved = resolveStoreEntry(entry);
  return openStore(resolved.address, {
    ...options,
    layout: options.layout ?? resolved.layout,
    s3: { ...resolved.s3, ...definedOnly(options.s3) },
  });
}

/** openStore opens the store an address names. */
export async function openStore(address: StoreAddress, options: OpenStoreOptions): Promise<Store> {
  const env = options.env ?? process.env;
  // Each kind of store is loaded when first opened: the AWS SDK alone takes about a second
  // to load, which a command that never touches S3 should not pay.
  switch (address.kind) {
    case 'dir': {
      if (address.path === undefined) {
        return new LayoutStore(defaultStorePath(env), { missingIsEmpty: true });
      }
      const { openRegistryLayoutDir } = await import('./s3/open-object-store.js');
      return (
        (await openRegistryLayoutDir(address.path, options.layout)) ?? new LayoutStore(address.path)
      );
    }
    case 's3': {
      const { openS3Store } = await import('./s3/open-object-store.js');
      return openS3Store(address.bucket, address.prefix, {
        connection: options.s3,
        layout: options.layout,
        env,
        signal: options.signal,
      });
    }
    case 'archive': {
      const { openArchiveStore } = await import('./archive/open-archive.js');
      return openArchiveStore(address.path, options.mode, env, options.logger);
    }
    case 'registry': {
      const { RegistryStore } = await import('./registry/registry-store.js');
      return RegistryStore.open(address, {
        ...options.registry,
        env,
        logger: options.logger,
        signal: options.signal,
      });
    }
    case 'named':
      return openNamedStore(address.name, options);
    case 'daemon': {
      const { daemonArchives } = await import('./daemon-archives.js');
      const { openDaemonStore } = await import('./daemon/open-daemon.js');
      return openDaemonStore(daemonArchives(env), { ...options, env });
    }
  }
}
