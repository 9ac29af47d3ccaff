import type { PassThrough, Writable } from 'node:stream';

import type { TarEntry } from './tar-index.js';

/** A promise with its settling functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/** deferred makes a promise settled from outside; nobody need wait for it. */
export function deferred<T>(): Deferred<T> {
  const handlers: Partial<Deferred<T>> = {};
  const promise = new Promise<T>((resolve, reject) => Object.assign(handlers, { resolve, reject }));
  promise.catch(() => {}); // Nobody may be waiting; whoever waits later sees the failure.
  return { promise, resolve: handlers.resolve!, reject: handlers.reject! };
}

/**
 * Where an entry's data is: not arrived yet, being placed, in memory, in a spool file, handed
 * to the streams that waited for it (so gone), or never arrived.
 */
export type HeldState = 'pending' | 'placing' | 'memory' | 'file' | 'gone' | 'missing';

/** What is known of one entry of the stream. */
export interface Held {
  entry: TarEntry;
  state: HeldState;
  bytes?: Buffer;
  file?: string;
  head?: Buffer;
  digest?: string;
  /** Streams asked for before the entry arrived, fed as it does. */
  waiters: PassThrough[];
  headKnown: Deferred<Buffer>;
  placed: Deferred<void>;
  /** For a link: the entry it leads to, whose data its readers get. */
  source?: Held;
  /** The links that lead here; their readers are fed with this entry's data. */
  followers: Held[];
  /** The links followed to reach this path from one the images need, counted as one lookup. */
  links: string[];
}

/** hold notes an entry whose data has not arrived yet. */
export function hold(entry: TarEntry, links: string[] = []): Held {
  return {
    entry,
    state: 'pending',
    waiters: [],
    headKnown: deferred(),
    placed: deferred(),
    followers: [],
    links,
  };
}

/** rootOf is the entry whose data a path's readers get: the end of its links. */
export function rootOf(held: Held): Held {
  let root = held;
  while (root.source) root = root.source;
  return root;
}

/** treeOf is an entry and, transitively, every link that leads to it. */
export function treeOf(held: Held): Held[] {
  return [held, ...held.followers.flatMap(treeOf)];
}

/**
 * follow makes a link's readers readers of its target. The link's head is the target's, unless
 * the link is led elsewhere before the target's is known.
 */
export function follow(link: Held, target: Held, links: string[]): void {
  link.source = target;
  target.followers.push(link);
  if (links.length > target.links.length) target.links = links;
  target.headKnown.promise.then(
    (head) => link.source === target && link.headKnown.resolve(head),
    (error: Error) => link.source === target && link.headKnown.reject(error),
  );
}

/** unfollow undoes follow, for a link that comes again leading elsewhere. */
export function unfollow(link: Held): void {
  const source = link.source;
  if (!source) return;
  source.followers = source.followers.filter((other) => other !== link);
  link.source = undefined;
}

/** takeWaiters takes the streams waiting for an entry or any link to it, to be fed now. */
export function takeWaiters(root: Held): PassThrough[] {
  const outs: PassThrough[] = [];
  for (const held of treeOf(root)) outs.push(...held.waiters.splice(0));
  return outs;
}

/** Thrown while the images are worked out early, when they need what has not arrived yet. */
export class NotYetArrived extends Error {}

/** drained waits until a stream takes more data, or is gone. */
export function drained(out: Writable): Promise<void> | undefined {
  if (!out.writableNeedDrain || out.destroyed) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
