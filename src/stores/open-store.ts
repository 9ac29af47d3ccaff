import { UnsupportedError } from '../core/errors.js';
import { formatStoreAddress, type StoreAddress } from '../core/store-address.js';
import type { Store } from '../core/store.js';
import type { Logger } from '../core/logger.js';
import { LayoutStore } from './layout/layout-store.js';
import { defaultStorePath } from './layout/location.js';
import { daemonArchives } from './daemon-archives.js';
import { openDaemonStore } from './daemon/open-daemon.js';

/** How a store is opened: for reading images out of it, or for writing images into it. */
export interface OpenStoreOptions {
  mode: 'read' | 'write';
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  signal?: AbortSignal;
}

/** openStore opens the store an address names. */
export async function openStore(address: StoreAddress, options: OpenStoreOptions): Promise<Store> {
  const env = options.env ?? process.env;
  switch (address.kind) {
    case 'dir':
      if (address.path === undefined) {
        return new LayoutStore(defaultStorePath(env), { missingIsEmpty: true });
      }
      return new LayoutStore(address.path);
    case 'daemon':
      return openDaemonStore(daemonArchives, { ...options, env });
    default:
      throw new UnsupportedError(
        'STORE_UNSUPPORTED',
        `${formatStoreAddress(address)}: this kind of store is not supported yet`,
        {
          hint: 'use dir or dir:PATH',
        },
      );
  }
}
