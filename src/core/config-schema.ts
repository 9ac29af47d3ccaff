import { z } from 'zod';

import { isRegistryHost, isRepositoryPath } from './reference.js';
import type { StoreAddress } from './store-address.js';

/** The two ways images are laid out in a directory or a bucket. */
export const storeLayoutSchema = z.enum(['oci', 'registry']);
export type StoreLayout = z.infer<typeof storeLayoutSchema>;

// `.strict()` everywhere: a misspelt key, or a credential someone tried to put here, is an
// error instead of being silently ignored.
const s3Entry = z
  .object({
    type: z.literal('s3'),
    bucket: z.string().min(3),
    prefix: z.string().optional(),
    endpoint: z.url().optional(),
    region: z.string().min(1).optional(),
    forcePathStyle: z.boolean().optional(),
    layout: storeLayoutSchema.optional(),
  })
  .strict();

const dirEntry = z
  .object({ type: z.literal('dir'), path: z.string().min(1), layout: storeLayoutSchema.optional() })
  .strict();

// The same rules as a registry:// address; the message never repeats the value, which may
// hold user:password@.
const registryEntry = z
  .object({
    type: z.literal('registry'),
    host: z.string().refine(isRegistryHost, 'must be HOST or HOST:PORT, without credentials'),
    prefix: z
      .string()
      .refine(
        (prefix) => trimSlashes(prefix) === '' || isRepositoryPath(trimSlashes(prefix)),
        'must be lowercase repository path components, e.g. team/images',
      )
      .optional(),
  })
  .strict();

const archiveEntry = z.object({ type: z.literal('archive'), path: z.string().min(1) }).strict();

/** One named store in the configuration file. */
export const storeEntrySchema = z.discriminatedUnion('type', [
  s3Entry,
  dirEntry,
  registryEntry,
  archiveEntry,
]);
export type StoreEntry = z.infer<typeof storeEntrySchema>;

/** The configuration file: `{"stores": {"NAME": {"type": "s3", …}}}`. */
export const configSchema = z
  .object({
    stores: z.record(z.string().regex(/^[A-Za-z][\w.-]*$/), storeEntrySchema).default({}),
  })
  .strict();
export type RegtoolConfig = z.infer<typeof configSchema>;

/** S3 connection settings that flags or a configuration entry may give. */
export interface S3Connection {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

/** What a named store stands for: an address, plus the layout and S3 settings it carries. */
export interface ResolvedEntry {
  address: StoreAddress;
  layout?: StoreLayout;
  s3?: S3Connection;
}

function trimSlashes(prefix: string | undefined): string {
  return (prefix ?? '').replace(/^\/+|\/+$/g, '');
}

/** resolveStoreEntry turns a configuration entry into the address it names. */
export function resolveStoreEntry(entry: StoreEntry): ResolvedEntry {
  switch (entry.type) {
    case 's3':
      return {
        address: { kind: 's3', bucket: entry.bucket, prefix: trimSlashes(entry.prefix) },
        layout: entry.layout,
        s3: {
          endpoint: entry.endpoint,
          region: entry.region,
          forcePathStyle: entry.forcePathStyle,
        },
      };
    case 'dir':
      return { address: { kind: 'dir', path: entry.path }, layout: entry.layout };
    case 'registry':
      return { address: { kind: 'registry', host: entry.host, prefix: trimSlashes(entry.prefix) } };
    case 'archive':
      return { address: { kind: 'archive', path: entry.path } };
  }
}
