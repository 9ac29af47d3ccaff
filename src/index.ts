/**
 * regtool's library API: the same verbs as the command line, over any store.
 */
export * from './core/errors.js';
export * from './core/digest.js';
export * from './core/media-types.js';
export * from './core/schemas.js';
export * from './core/manifest.js';
export * from './core/reference.js';
export * from './core/platform.js';
export * from './core/store.js';
export * from './core/store-address.js';
export * from './core/walk.js';
export type { Logger } from './core/logger.js';
export {
  copyImages,
  type CopyOptions,
  type CopyRequest,
  type CopySummary,
} from './copy/copy-images.js';
export type { CopyEvent, EventSink } from './copy/events.js';
export type { PlatformChoice } from './copy/plan.js';
export { verifyStore, type VerifyReport } from './copy/verify.js';
export { openStore, type OpenStoreOptions } from './stores/open-store.js';
export { LayoutStore } from './stores/layout/layout-store.js';
export { defaultStorePath } from './stores/layout/location.js';
export { copyReferrers } from './copy/referrers.js';
export { RegistryStore } from './stores/registry/registry-store.js';
export { RegistryClient, type RegistryOptions } from './stores/registry/client.js';
export {
  eraseCredentials,
  lookupCredentials,
  saveCredentials,
  type Credentials,
} from './stores/registry/credentials.js';
export * from './core/config-schema.js';
export {
  migrateStores,
  type MigrateOptions,
  type MigrateStatus,
  type MigrateSummary,
  type MigratedImage,
} from './copy/migrate.js';
export {
  openRegistryLayoutDir,
  openS3Store,
  type S3StoreOptions,
} from './stores/s3/open-object-store.js';
export type { ObjectStorage } from './stores/s3/object-storage.js';
