import { access } from 'node:fs/promises';
import { join } from 'node:path';

import type { S3Connection, StoreLayout } from '../../core/config-schema.js';
import { UsageError } from '../../core/errors.js';
import type { Store } from '../../core/store.js';
import { FsStorage } from './fs-storage.js';
import type { ObjectStorage } from './object-storage.js';
import { OciObjectStore } from './oci-object-store.js';
import { REGISTRY_ROOT } from './registry-paths.js';
import { RegistryLayoutStore } from './registry-layout-store.js';

/** How an S3 store is opened; endpoint and region fall back to the AWS environment. */
export interface S3StoreOptions {
  connection?: S3Connection;
  /** The layout a new store gets; an existing one keeps its own. */
  layout?: StoreLayout;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

async function detectLayout(storage: ObjectStorage): Promise<StoreLayout | undefined> {
  if (await storage.exists(`${REGISTRY_ROOT}/`)) return 'registry';
  if ((await storage.size('index.json')) !== undefined) return 'oci';
  if ((await storage.size('oci-layout')) !== undefined) return 'oci';
  return undefined;
}

const article = (layout: StoreLayout) => (layout === 'oci' ? `an ${layout}` : `a ${layout}`);

/** refuseMismatch refuses to write one layout where the other one is. */
function refuseMismatch(storage: ObjectStorage, found?: StoreLayout, wanted?: StoreLayout): void {
  if (wanted === undefined || found === undefined || found === wanted) return;
  throw new UsageError(
    'LAYOUT_MISMATCH',
    `${storage.location} holds ${article(found)} layout, not ${article(wanted)} one`,
    { hint: `leave out --layout, or use --layout ${found}, or choose an empty place` },
  );
}

/**
 * openLayout opens the layout found in a storage, or the one asked for when the storage is
 * new. Asking for one layout where the other is found is a usage error, not a mixed store.
 */
async function openLayout(storage: ObjectStorage, wanted?: StoreLayout): Promise<Store> {
  const found = await detectLayout(storage);
  refuseMismatch(storage, found, wanted);
  const layout = found ?? wanted ?? 'oci';
  return layout === 'registry' ? new RegistryLayoutStore(storage) : new OciObjectStore(storage);
}

/** openS3Store opens `s3://BUCKET[/PREFIX]` in the layout found there (oci when empty). */
export async function openS3Store(
  bucket: string,
  prefix: string,
  options: S3StoreOptions = {},
): Promise<Store> {
  // The AWS SDK takes most of a second to load, so only S3 addresses load it.
  const [{ createS3Client, resolveS3Settings }, { S3Storage }] = await Promise.all([
    import('./s3-client.js'),
    import('./s3-storage.js'),
  ]);
  const settings = resolveS3Settings(
    { bucket, prefix, ...options.connection },
    options.env ?? process.env,
  );
  const storage = new S3Storage(createS3Client(settings), bucket, prefix, options.signal);
  return openLayout(storage, options.layout);
}

/**
 * openRegistryLayoutDir opens a directory in the Distribution registry's layout when asked
 * for, or when one is found there; otherwise it returns undefined and the directory is an
 * OCI layout.
 */
export async function openRegistryLayoutDir(
  path: string,
  layout?: StoreLayout,
): Promise<Store | undefined> {
  if (layout === 'oci') {
    const storage = new FsStorage(path);
    refuseMismatch(storage, await detectLayout(storage), 'oci');
    return undefined;
  }
  if (layout === undefined) {
    try {
      await access(join(path, ...REGISTRY_ROOT.split('/')));
    } catch {
      return undefined;
    }
  }
  return openLayout(new FsStorage(path), 'registry');
}
