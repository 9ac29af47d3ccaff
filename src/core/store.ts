import type { Readable } from 'node:stream';

import type { Reference } from './reference.js';
import type { Descriptor } from './schemas.js';

/** A named image in a store: the name as a reference, and the manifest it points at. */
export interface ImageEntry {
  /** Undefined for an unnamed (untagged) image, or a name that is not a valid reference. */
  reference?: Reference;
  descriptor: Descriptor;
  /** The name exactly as the store holds it, when that differs from the reference (`v1`). */
  name?: string;
}

/** How putBlob takes its content. */
export interface PutBlobOptions {
  /**
   * The content fails with an IntegrityError when it disagrees with the descriptor, as a
   * store's getBlob stream does, so the store need not hash it again.
   */
  verified?: boolean;
}

/** What a listing may leave out, for a caller that wants only some images. */
export interface ListFilter {
  /** False when no image of the repository (a reference without a tag) is wanted. */
  wantsRepository(repository: Reference): boolean;
  /** False when the image of this name is not wanted, whatever its digest. */
  wantsName(reference: Reference): boolean;
}

/** A manifest's exact bytes, with the media type the store gave for them. */
export interface ManifestContent {
  bytes: Uint8Array;
  mediaType?: string;
}

/** Why a store's writes are discarded: the command failed, or it was interrupted. */
export type AbortReason = 'failed' | 'interrupted';

/**
 * Store is what every place images live implements: content-addressed blobs and manifests,
 * and names that point at manifests. Repositories are full names (`docker.io/library/busybox`)
 * as returned by {@link Store.locate}.
 */
export interface Store {
  /** Where the store is, for messages; never holds credentials. */
  readonly location: string;

  /** locate maps an image name to the name this store gives it (a registry replaces the host). */
  locate(reference: Reference): Reference;

  /** resolve finds the manifest a tag or digest names; throws a NotFoundError when none does. */
  resolve(reference: Reference, asTyped?: string): Promise<Descriptor>;

  /** getManifest returns the exact bytes of a manifest, verified against the descriptor. */
  getManifest(repository: string, descriptor: Descriptor): Promise<ManifestContent>;

  hasManifest(repository: string, descriptor: Descriptor): Promise<boolean>;

  hasBlob(repository: string, descriptor: Descriptor): Promise<boolean>;

  /**
   * getBlob returns a stream that fails with an IntegrityError if the bytes disagree with the
   * descriptor.
   */
  getBlob(repository: string, descriptor: Descriptor): Promise<Readable>;

  /** putBlob stores a blob only once its bytes are verified against the descriptor. */
  putBlob(
    repository: string,
    descriptor: Descriptor,
    content: Readable,
    options?: PutBlobOptions,
  ): Promise<void>;

  /** putManifest stores a manifest by digest; its blobs and children must already be stored. */
  putManifest(repository: string, descriptor: Descriptor, bytes: Uint8Array): Promise<void>;

  /** tag points a name at a stored manifest; a reference without a tag records an unnamed image. */
  tag(reference: Reference, descriptor: Descriptor): Promise<void>;

  /**
   * listImages yields every named image. A store whose listing costs requests per image may
   * leave out what `filter` is sure not to want; the caller still filters what it gets.
   */
  listImages(filter?: ListFilter): AsyncIterable<ImageEntry>;

  /** close commits what was written (an index, an archive) atomically. */
  close(): Promise<void>;

  /**
   * abort discards what was written since the store was opened, leaving nothing half-made.
   * After a failure the store is left exactly as it was; after an interruption a store may
   * keep blobs it has already verified, so that running the command again resumes.
   */
  abort(reason?: AbortReason): Promise<void>;
}

/** BlobMounter is a store that can link a blob from another repository without moving bytes. */
export interface BlobMounter {
  mountBlob(repository: string, descriptor: Descriptor, fromRepository: string): Promise<boolean>;
}

/** ImageDeleter is a store that can remove a name, or a manifest by digest. */
export interface ImageDeleter {
  deleteImage(reference: Reference, asTyped?: string): Promise<Descriptor>;
}

/** BlobPruner is a store that can remove blobs no name reaches any more. */
export interface BlobPruner {
  /** prune returns the blobs (and bytes) removed, and the temporary files killed writers left. */
  prune(): Promise<{ blobs: number; bytes: number; tempFiles: number }>;
}

/** ReferrerLister is a store that can list the manifests referring to one (signatures, SBOMs). */
export interface ReferrerLister {
  referrers(repository: string, digest: string): Promise<Descriptor[]>;
}

/** One image an ordered sink is about to receive. */
export interface PlannedImage {
  reference: Reference;
  root: Descriptor;
  /** Every manifest and index under the root, with exact bytes, children before parents. */
  manifests: Array<{ descriptor: Descriptor; bytes: Uint8Array }>;
  /** Every config blob, with its bytes. */
  configs: Array<{ descriptor: Descriptor; bytes: Uint8Array }>;
  /** Every layer blob, in manifest order (repeats kept). */
  layers: Descriptor[];
}

/**
 * OrderedSink is a store that writes a stream (a tar), so it must know every image before
 * the first layer arrives, and takes layers one at a time in the order it asks for.
 */
export interface OrderedSink {
  /** beginImages receives the whole plan and returns the order in which it wants layers. */
  beginImages(images: PlannedImage[]): Promise<Descriptor[]>;
}

/**
 * OnePassSource is a store read as it arrives (an archive on a stream): each blob can be read
 * from it once, and it can be told which blobs a copy will not read after all, so that it
 * passes over them rather than keeping them until the end.
 */
export interface OnePassSource {
  /** Whether each blob can be read only once (false for a source that is not a stream). */
  readonly readsOnce: boolean;
  /**
   * expectBlobs tells the source, before any blob is read, every blob the copy may read (those
   * of the images it copies and has to): any other is passed over, never kept.
   */
  expectBlobs(descriptors: Descriptor[]): void;
  /** passBlob tells the source that a copy will not read a blob: the destination has it. */
  passBlob(repository: string, descriptor: Descriptor): void;
  /**
   * finish reads what is left of the source and throws what is wrong with it: a copy calls it
   * after its blobs and before any manifest or name, so that nothing is named from a stream
   * that turns out damaged.
   */
  finish(): Promise<void>;
}

export function isOnePassSource(store: Store): store is Store & OnePassSource {
  return typeof (store as Partial<OnePassSource>).passBlob === 'function';
}

/** AccessChecker is a store that can tell, before any work, whether it will take writes. */
export interface AccessChecker {
  /** checkAccess fails (exit 4) when the store refuses the credentials regtool has for it. */
  checkAccess(): Promise<void>;
}

export function isAccessChecker(store: Store): store is Store & AccessChecker {
  return typeof (store as Partial<AccessChecker>).checkAccess === 'function';
}

export function isBlobMounter(store: Store): store is Store & BlobMounter {
  return typeof (store as Partial<BlobMounter>).mountBlob === 'function';
}

export function isImageDeleter(store: Store): store is Store & ImageDeleter {
  return typeof (store as Partial<ImageDeleter>).deleteImage === 'function';
}

export function isBlobPruner(store: Store): store is Store & BlobPruner {
  return typeof (store as Partial<BlobPruner>).prune === 'function';
}

export function isReferrerLister(store: Store): store is Store & ReferrerLister {
  return typeof (store as Partial<ReferrerLister>).referrers === 'function';
}

export function isOrderedSink(store: Store): store is Store & OrderedSink {
  return typeof (store as Partial<OrderedSink>).beginImages === 'function';
}
