import { pipeline, Transform, type Readable } from 'node:stream';

import pLimit from 'p-limit';

import { NotFoundError, InterruptedError } from '../core/errors.js';
import { isIndexMediaType } from '../core/media-types.js';
import type { Reference } from '../core/reference.js';
import type { Descriptor } from '../core/schemas.js';
import {
  isBlobMounter,
  isOnePassSource,
  isOrderedSink,
  type PlannedImage,
  type Store,
} from '../core/store.js';
import type { EventSink } from './events.js';
import { planImage, type PlatformChoice } from './plan.js';

/** One image to copy: where it comes from and the name it gets at the destination. */
export interface CopyRequest {
  source: Reference;
  /** The name as the user typed it, for stores that hold bare names (`v1`). */
  asTyped?: string;
  /** The destination name; the source name when absent. */
  target?: Reference;
}

export interface CopyOptions {
  platforms?: PlatformChoice;
  /** Blobs moved at once (default 4). */
  jobs?: number;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

/** What a copy did, for summaries and --json. */
export interface CopySummary {
  images: Array<{ source: string; target: string; digest: string; upToDate: boolean }>;
  blobsMoved: number;
  blobsSkipped: number;
  bytesMoved: number;
  bytesSkipped: number;
}

function emptySummary(): CopySummary {
  return { images: [], blobsMoved: 0, blobsSkipped: 0, bytesMoved: 0, bytesSkipped: 0 };
}

/**
 * copyImages moves images from one store to another: it plans every blob, skips what the
 * destination has, moves each blob once (verified as it streams), then stores manifests
 * children first and names last. It neither closes nor aborts the stores.
 */
export async function copyImages(
  source: Store,
  destination: Store,
  requests: CopyRequest[],
  options: CopyOptions = {},
): Promise<CopySummary> {
  const emit: EventSink = options.onEvent ?? (() => {});
  const platforms = options.platforms ?? { kind: 'all' };
  const summary = emptySummary();
  const plans: Array<{ plan: PlannedImage; target: Reference; source: Reference }> = [];

  for (const request of requests) {
    checkAborted(options.signal);
    const sourceRef = source.locate(request.source);
    const target = destination.locate(request.target ?? request.source);
    emit({ type: 'image-start', source: sourceRef, target });
    const root = await source.resolve(sourceRef, request.asTyped);
    const upToDate = (descriptor: Descriptor) => {
      summary.images.push({
        source: `${sourceRef}`,
        target: `${target}`,
        digest: descriptor.digest,
        upToDate: true,
      });
      emit({ type: 'image-done', source: sourceRef, target, descriptor, upToDate: true });
    };
    // Ask the destination first: when it already names the source's root, the copy costs
    // these two manifest lookups and nothing else.
    const existing = await destinationDigest(destination, target);
    // An index narrowed to a platform the user named is stored as that platform's manifest: a
    // name that still points at the whole index is not up to date.
    const narrowed =
      platforms.kind === 'one' && platforms.asked === true && isIndexMediaType(root.mediaType);
    if (existing === root.digest && !narrowed) {
      upToDate(root);
      continue;
    }
    const plan = await planImage(source, sourceRef, root, platforms);
    if (existing === plan.root.digest) {
      upToDate(plan.root);
      continue;
    }
    plans.push({ plan, target, source: sourceRef });
  }

  // A source read in one pass passes over the blobs of images not copied (not asked for, other
  // platforms, already at the destination) rather than keeping them for a reader never coming.
  if (isOnePassSource(source))
    source.expectBlobs(
      plans.flatMap(({ plan }) => [...plan.configs.map((c) => c.descriptor), ...plan.layers]),
    );
  const mover = new BlobMover(source, destination, summary, emit, options);
  if (isOrderedSink(destination)) {
    const planned = plans.map(({ plan, target }) => ({ ...plan, reference: target }));
    const order = await destination.beginImages(planned);
    for (const descriptor of order) {
      const owner = plans.find(({ plan }) =>
        plan.layers.some((l) => l.digest === descriptor.digest),
      );
      await mover.move(
        owner?.source.repository ?? '',
        owner?.target.repository ?? '',
        descriptor,
        false,
      );
    }
  } else {
    const limit = pLimit(options.jobs ?? 4);
    const tasks: Array<Promise<void>> = [];
    for (const { plan, source: sourceRef, target } of plans) {
      for (const descriptor of [...plan.configs.map((c) => c.descriptor), ...plan.layers]) {
        tasks.push(
          limit(() => mover.move(sourceRef.repository, target.repository, descriptor, true)),
        );
      }
    }
    await settleAll(tasks);
  }

  // Nothing is named from a stream before all of it is known to be sound.
  if (isOnePassSource(source)) await source.finish();

  for (const { plan, source: sourceRef, target } of plans) {
    checkAborted(options.signal);
    for (const { descriptor, bytes } of plan.manifests) {
      if (!(await destination.hasManifest(target.repository, descriptor))) {
        await destination.putManifest(target.repository, descriptor, bytes);
      }
      emit({ type: 'manifest', descriptor, target });
    }
    await destination.tag(target, plan.root);
    summary.images.push({
      source: `${sourceRef}`,
      target: `${target}`,
      digest: plan.root.digest,
      upToDate: false,
    });
    emit({ type: 'image-done', source: sourceRef, target, descriptor: plan.root, upToDate: false });
  }
  return summary;
}

/** settleAll waits for every task, then throws the first failure, so no stream is left running. */
async function settleAll(tasks: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}

/** destinationDigest is the digest the destination names the target by, if it names it. */
async function destinationDigest(
  destination: Store,
  target: Reference,
): Promise<string | undefined> {
  if (target.tag === undefined) return undefined;
  try {
    return (await destination.resolve(target)).digest;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** BlobMover moves each blob at most once per copy, skipping what the destination has. */
class BlobMover {
  private readonly seen = new Map<string, Promise<void>>();
  private readonly firstTarget = new Map<string, { to: string; work: Promise<void> }>();

  constructor(
    private readonly source: Store,
    private readonly destination: Store,
    private readonly summary: CopySummary,
    private readonly emit: EventSink,
    private readonly options: CopyOptions,
  ) {}

  move(
    fromRepository: string,
    toRepository: string,
    descriptor: Descriptor,
    check: boolean,
  ): Promise<void> {
    // Registries hold blobs per repository: a blob is moved once per destination repository,
    // and a second repository mounts it from the first one that received it.
    const key = `${toRepository}\n${descriptor.digest}`;
    const known = this.seen.get(key);
    if (known) {
      this.emit({ type: 'blob-skip', descriptor, reason: 'duplicate' });
      return known;
    }
    const earlier = this.firstTarget.get(descriptor.digest);
    const work = earlier
      ? earlier.work.then(() =>
          this.transfer(fromRepository, toRepository, descriptor, check, earlier.to),
        )
      : this.transfer(fromRepository, toRepository, descriptor, check);
    this.seen.set(key, work);
    if (!earlier) this.firstTarget.set(descriptor.digest, { to: toRepository, work });
    return work;
  }

  private async transfer(
    from: string,
    to: string,
    descriptor: Descriptor,
    check: boolean,
    /** The destination repository that received the blob first, for the later ones. */
    earlier?: string,
  ) {
    checkAborted(this.options.signal);
    const first = earlier === undefined;
    const mountFrom = earlier ?? from;
    if (check && (await this.destination.hasBlob(to, descriptor))) {
      this.skip(from, descriptor, 'exists', first);
      return;
    }
    if (
      check &&
      isBlobMounter(this.destination) &&
      (await this.destination.mountBlob(to, descriptor, mountFrom))
    ) {
      this.skip(from, descriptor, 'mounted', first);
      return;
    }
    this.emit({ type: 'blob-start', descriptor });
    // A source read in one pass gives each blob once: a second repository that could not mount
    // it gets it from the first one, which has it by now.
    const again = !first && isOnePassSource(this.source) && this.source.readsOnce;
    const content = again
      ? await this.destination.getBlob(earlier, descriptor)
      : await this.source.getBlob(from, descriptor);
    const counted = this.countProgress(content, descriptor);
    try {
      // A store's getBlob stream fails on bytes that disagree with the descriptor.
      await this.destination.putBlob(to, descriptor, counted, { verified: true });
    } catch (error) {
      // The source may be feeding this blob and others in one stream: a destination that gave
      // up must let go of it, or the source waits for it for ever.
      counted.destroy();
      throw error;
    }
    this.summary.blobsMoved += 1;
    this.summary.bytesMoved += descriptor.size;
    this.emit({ type: 'blob-done', descriptor, bytes: descriptor.size });
  }

  /** skip counts a blob the destination has; a one-pass source is told it will not be read. */
  private skip(from: string, descriptor: Descriptor, reason: 'exists' | 'mounted', first: boolean) {
    if (first && isOnePassSource(this.source)) this.source.passBlob(from, descriptor);
    this.summary.blobsSkipped += 1;
    this.summary.bytesSkipped += descriptor.size;
    this.emit({ type: 'blob-skip', descriptor, reason });
  }

  private countProgress(content: Readable, descriptor: Descriptor): Readable {
    let bytes = 0;
    let last = 0;
    const emit = this.emit;
    const counter = new Transform({
      highWaterMark: 1 << 20,
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes - last >= 1 << 20) {
          last = bytes;
          emit({ type: 'blob-progress', descriptor, bytes });
        }
        callback(null, chunk);
      },
    });
    // The destination may await something before it starts reading; an error in between must
    // not crash the process. It stays on `counter.errored`, where the destination's pipeline finds
    // it. When the destination stops reading early, destroying the counter destroys the content.
    counter.on('error', () => {});
    const onAbort = () => content.destroy(new InterruptedError());
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    counter.on('close', () => this.options.signal?.removeEventListener('abort', onAbort));
    return pipeline(content, counter, () => {});
  }
}
