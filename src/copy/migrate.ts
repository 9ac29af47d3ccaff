import { InterruptedError, NotFoundError, RegtoolError } from '../core/errors.js';
import type { Reference } from '../core/reference.js';
import type { Descriptor } from '../core/schemas.js';
import { isOrderedSink, type Store } from '../core/store.js';
import { copyImages, type CopyRequest } from './copy-images.js';
import type { EventSink } from './events.js';
import { byDigest, holdsLayoutNames, selectImages, type MigrateEntry } from './migrate-select.js';
import { referrerRequests } from './migrate-referrers.js';
import { planImage } from './plan.js';

export interface MigrateOptions {
  /** Globs on `repo:tag`; an image is taken when it matches one (all when none are given). */
  include?: string[];
  /** Globs on `repo:tag`; an image that matches one is left out. */
  exclude?: string[];
  /** Plan and count only; move nothing. */
  dryRun?: boolean;
  /** Blobs moved at once (default 4). */
  jobs?: number;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

/**
 * What happened to one image: `to-move` in a dry run; `not-held` when the destination cannot name
 * it.
 */
export type MigrateStatus = 'moved' | 'up-to-date' | 'to-move' | 'not-held' | 'failed';

export interface MigratedImage {
  name: string;
  digest: string;
  status: MigrateStatus;
  message?: string;
}

/** What a migrate did (or, in a dry run, would do), for the summary and --json. */
export interface MigrateSummary {
  dryRun: boolean;
  images: MigratedImage[];
  counts: Record<MigrateStatus, number> & { selected: number; excluded: number };
  blobsMoved: number;
  blobsSkipped: number;
  bytesMoved: number;
  bytesSkipped: number;
  seconds: number;
}

interface Run {
  source: Store;
  destination: Store;
  options: MigrateOptions;
  summary: MigrateSummary;
  holdsNames: boolean;
  /** Blobs a dry run has counted already. */
  counted: Set<string>;
  /** For a destination that writes a stream (an archive): every image, moved in one go. */
  batch?: MigrateEntry[];
  listed?: Promise<Set<string>>;
}

/**
 * migrateStores copies every image of one store (every repository, tag and platform, the
 * referrers of each image it moves, and the unnamed entries of a layout where the destination
 * can hold them) to another. An image the
 * destination already has under the same name and digest costs one lookup; blobs it has are
 * skipped, so a re-run after an interruption moves only what is missing. A failing image is
 * recorded and the others go on; an interrupt stops everything.
 */
export async function migrateStores(
  source: Store,
  destination: Store,
  options: MigrateOptions = {},
): Promise<MigrateSummary> {
  const started = performance.now();
  const { selected, excluded } = await selectImages(source, options.include, options.exclude);
  const run: Run = {
    source,
    destination,
    options,
    summary: emptySummary(options.dryRun ?? false, selected.length, excluded),
    holdsNames: holdsLayoutNames(destination),
    counted: new Set(),
    batch: isOrderedSink(destination) ? [] : undefined,
  };
  for (const entry of selected) {
    if (options.signal?.aborted) throw new InterruptedError();
    const status = await migrateImage(run, entry);
    run.summary.images.push({ name: entry.label, digest: entry.descriptor.digest, ...status });
    run.summary.counts[status.status] += 1;
  }
  if (run.batch !== undefined && run.batch.length > 0) await moveImages(run, run.batch);
  run.summary.seconds = Math.round(performance.now() - started) / 1000;
  return run.summary;
}

function emptySummary(dryRun: boolean, selected: number, excluded: number): MigrateSummary {
  return {
    dryRun,
    images: [],
    counts: {
      selected,
      excluded,
      moved: 0,
      'up-to-date': 0,
      'to-move': 0,
      'not-held': 0,
      failed: 0,
    },
    blobsMoved: 0,
    blobsSkipped: 0,
    bytesMoved: 0,
    bytesSkipped: 0,
    seconds: 0,
  };
}

async function migrateImage(
  run: Run,
  entry: MigrateEntry,
): Promise<{ status: MigrateStatus; message?: string }> {
  if (entry.reference === undefined && !run.holdsNames) {
    const message =
      `${entry.label} has no repository:tag name, which ` +
      `${run.destination.location} needs; it was not copied`;
    run.options.onEvent?.({ type: 'warning', message });
    return { status: 'not-held', message };
  }
  if (await isThere(run, entry)) return { status: 'up-to-date' };
  if (run.summary.dryRun) {
    await countPlanned(run, entry);
    return { status: 'to-move' };
  }
  if (run.batch !== undefined) {
    // An ordered sink must hear of every image before the first layer; failures fail it all.
    run.batch.push(entry);
    return { status: 'moved' };
  }
  try {
    await moveImages(run, [entry]);
    return { status: 'moved' };
  } catch (error) {
    if (run.options.signal?.aborted || !(error instanceof RegtoolError)) throw error;
    if (error instanceof InterruptedError) throw error;
    run.options.onEvent?.({ type: 'warning', message: `${entry.label}: ${error.message}` });
    return { status: 'failed', message: error.message };
  }
}

/** isThere tells whether the destination names this image already, at the same digest. */
async function isThere(run: Run, entry: MigrateEntry): Promise<boolean> {
  const { destination } = run;
  if (entry.reference === undefined) {
    run.listed ??= listDestination(destination);
    return (await run.listed).has(`${entry.rawName ?? ''}@${entry.descriptor.digest}`);
  }
  try {
    const asTyped = run.holdsNames ? entry.rawName : undefined;
    const found = await destination.resolve(destination.locate(entry.reference), asTyped);
    return found.digest === entry.descriptor.digest;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}

async function listDestination(destination: Store): Promise<Set<string>> {
  const names = new Set<string>();
  try {
    for await (const image of destination.listImages()) {
      names.add(`${image.name ?? ''}@${image.descriptor.digest}`);
    }
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  return names;
}

/** A raw layout name, or none at all, is kept only where the destination can hold it. */
function keepsLayoutName(run: Run, entry: MigrateEntry): boolean {
  return run.holdsNames && (entry.rawName !== undefined || entry.reference === undefined);
}

function copyRequest(entry: MigrateEntry, keepsLayoutName: boolean): CopyRequest {
  const source = entry.reference ?? byDigest(entry);
  // A raw layout name is set through tagName; the copy itself then records no other name.
  const target: Reference = keepsLayoutName ? byDigest(entry) : source;
  return { source, asTyped: entry.rawName, target };
}

async function moveImages(run: Run, entries: MigrateEntry[]): Promise<void> {
  const { destination, options, summary } = run;
  for (const entry of entries) {
    if (keepsLayoutName(run, entry) && entry.rawName && holdsLayoutNames(destination)) {
      // Queued before the copy records the image unnamed, so the named entry wins.
      destination.tagName(entry.rawName, entry.descriptor);
    }
  }
  const requests: CopyRequest[] = [];
  for (const entry of entries) {
    const request = copyRequest(entry, keepsLayoutName(run, entry));
    requests.push(
      request,
      ...(await referrerRequests(run.source, request, entry.descriptor.digest)),
    );
  }
  const copied = await copyImages(run.source, destination, requests, {
    platforms: { kind: 'all' },
    jobs: options.jobs,
    onEvent: options.onEvent,
    signal: options.signal,
  });
  summary.blobsMoved += copied.blobsMoved;
  summary.blobsSkipped += copied.blobsSkipped;
  summary.bytesMoved += copied.bytesMoved;
  summary.bytesSkipped += copied.bytesSkipped;
}

/** countPlanned adds what moving one image would move, and what is there already. */
async function countPlanned(run: Run, entry: MigrateEntry): Promise<void> {
  const { source, destination, summary } = run;
  const request = copyRequest(entry, false);
  const sourceRef = source.locate(request.source);
  const repository = destination.locate(request.target ?? request.source).repository;
  const root = await source.resolve(sourceRef, request.asTyped);
  const plan = await planImage(source, sourceRef, root, { kind: 'all' });
  const blobs: Array<[Descriptor, boolean]> = [
    ...plan.manifests.map(({ descriptor }): [Descriptor, boolean] => [descriptor, true]),
    ...plan.configs.map(({ descriptor }): [Descriptor, boolean] => [descriptor, false]),
    ...plan.layers.map((descriptor): [Descriptor, boolean] => [descriptor, false]),
  ];
  for (const [descriptor, isManifest] of blobs) {
    if (run.counted.has(descriptor.digest)) continue;
    run.counted.add(descriptor.digest);
    const there = isManifest
      ? await destination.hasManifest(repository, descriptor)
      : await destination.hasBlob(repository, descriptor);
    if (there) {
      summary.blobsSkipped += 1;
      summary.bytesSkipped += descriptor.size;
    } else {
      summary.blobsMoved += 1;
      summary.bytesMoved += descriptor.size;
    }
  }
}
