import { treeOf, type Held } from './held-entry.js';

/**
 * EntryReaders keeps, for an archive read as a stream, who reads its entries: how many blobs
 * are read from each entry, who waits for one now, and when a reader last asked for, let go
 * of or passed over an entry. The stream's reader waits on it for a change.
 */
export class EntryReaders {
  /**
   * The paths of the entries the images' blobs are read from, each with how many blobs read it
   * (more than one when links lead several blob paths to one file).
   */
  private readonly needed = new Map<string, number>();
  /** Counts each time someone asks for an entry, lets go of one or passes one over. */
  private activity = 0;
  private wake?: () => void;

  /**
   * `readers` is how many blobs the copy reads at once, when known: once that many wait for
   * other entries, an entry nobody has asked for yet cannot be waited for.
   */
  constructor(
    private readonly held: ReadonlyMap<string, Held>,
    private readonly readers: number | undefined,
  ) {}

  /** add counts one more blob read from the entry at `path`. */
  add(path: string): void {
    this.needed.set(path, (this.needed.get(path) ?? 0) + 1);
  }

  /** expect counts only these entries (one for each blob the copy may read). */
  expect(paths: string[]): void {
    this.needed.clear();
    for (const path of paths) this.add(path);
    this.note();
  }

  /** pass counts one blob fewer read from the entry at `path`; false when none was counted. */
  pass(path: string): boolean {
    const count = this.needed.get(path);
    if (count === undefined) return false;
    if (count > 1) this.needed.set(path, count - 1);
    else this.needed.delete(path);
    this.note();
    return true;
  }

  /** wanted tells whether someone may read an entry: the images need it, or a link to it. */
  wanted(held: Held): boolean {
    return this.needed.has(held.entry.path) || held.followers.length > 0;
  }

  /** read tells whether a blob will be read from an entry, at its own path or through a link. */
  read(held: Held): boolean {
    return treeOf(held).some((other) => this.needed.has(other.entry.path));
  }

  /** readByOne tells whether exactly one blob is read from the entry at its own path. */
  readByOne(held: Held): boolean {
    return this.needed.get(held.entry.path) === 1;
  }

  /**
   * allWait tells whether every blob read from an entry (at its own path, or at a link to it)
   * waits for it: once fed, it cannot be read again.
   */
  allWait(held: Held): boolean {
    const readers = treeOf(held).filter((other) => this.needed.has(other.entry.path));
    const waits = (reader: Held) => reader.waiters.length >= this.needed.get(reader.entry.path)!;
    return readers.length > 0 && readers.every(waits);
  }

  anyoneWaits(): boolean {
    for (const held of this.held.values()) if (held.waiters.length > 0) return true;
    return false;
  }

  /**
   * copyBlocked tells whether every blob the copy reads at once waits for an entry other than
   * this one, which therefore nobody can come for until it is out of the way.
   */
  copyBlocked(held: Held): boolean {
    if (this.readers === undefined) return false;
    const mine = new Set(treeOf(held));
    let waiting = 0;
    for (const other of this.held.values()) if (!mine.has(other)) waiting += other.waiters.length;
    return waiting >= this.readers;
  }

  /** note records that a reader asked for an entry, let go of one or passed one over. */
  note(): void {
    this.activity += 1;
    this.wakeUp();
  }

  /** wakeUp ends a wait for a change: the stream failed or ends. */
  wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /**
   * change waits until a reader does something or wakeUp is called; after `ms` without either,
   * it gives up. It tells whether anything was noted meanwhile.
   */
  async change(ms?: number): Promise<boolean> {
    const seen = this.activity;
    const woken = await new Promise<boolean>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => resolve(false), ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    return woken || seen !== this.activity;
  }
}
