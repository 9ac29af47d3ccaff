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
}

/** hold notes an entry whose data has not arrived yet. */
export function hold(entry: TarEntry): Held {
  return { entry, state: 'pending', waiters: [], headKnown: deferred(), placed: deferred() };
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
