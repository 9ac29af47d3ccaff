import { readFile, rm } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';

import { sha256Digest } from '../../core/digest.js';
import { InterruptedError, NotFoundError, UnsupportedError } from '../../core/errors.js';
import { readFileStream } from '../../core/file-stream.js';
import {
  decompressStream,
  detectStreamCompression,
  MAGIC_LENGTH,
  peekStream,
  type StreamCompression,
} from './compression.js';
import { MAX_METADATA_BYTES, type ArchiveContents } from './contents.js';
import { EntryPlacer } from './entry-placer.js';
import { EntryReaders } from './entry-readers.js';
import { expectedLayers } from './expected-layers.js';
import {
  deferred,
  hold,
  NotYetArrived,
  rootOf,
  takeWaiters,
  unfollow,
  type Held,
} from './held-entry.js';
import { readArchiveContents } from './flavour.js';
import { collect, hashStream, type IndexedArchive } from './indexed-archive.js';
import { followLateLink, type ArrivedEntries } from './late-links.js';
import { checkEntryPaths, entryMissing, nextPath } from './links.js';
import { refuseRepeat, sameAsBefore } from './repeated-entry.js';
import { StreamTarSource, walkTar, type TarEntry, type TarSource } from './tar-index.js';

/** How an archive arriving on a stream is read. */
export interface StreamingOptions {
  limit: number;
  /** The folder the spool folder is made in. */
  spoolDir: string;
  what: string;
  /** What to do instead when a second read is needed; by default, save the stream to a file. */
  rereadHint?: string;
  /** Stops reading (InterruptedError) when aborted before the images are known. */
  signal?: AbortSignal;
  /**
   * How many blobs the copy reads at once, when known: once that many wait for later entries,
   * an entry nobody has asked for yet is spooled without waiting for its readers.
   */
  readers?: number;
}

/**
 * How long an entry whose readers have not all asked for it waits, with nobody asking for or
 * passing over anything, before it is spooled: the copy may be held up by something else.
 */
const STALL_MS = 1_000;

/**
 * StreamingArchive reads an archive arriving on a stream in one pass. Small entries stay in
 * memory; once the images are known, an entry someone asks for is handed over as it arrives,
 * and one that arrives first is spooled to a file until it is asked for. Before the images
 * are known (docker save writes manifest.json last), large entries are spooled. A link that
 * arrives after that leads its readers to the file's data, wherever it is; links are followed
 * and counted as the file reader follows them, so that both readers agree.
 */
export class StreamingArchive implements IndexedArchive {
  readonly entries = new Map<string, TarEntry>();
  private readonly held = new Map<string, Held>();
  private readonly contents = deferred<ArchiveContents>();
  private readonly placer: EntryPlacer;
  private readonly readers: EntryReaders;
  private published = false;
  /** Nothing more will be asked for: the rest of the stream is only checked. */
  private finishing = false;
  private attempting = false;
  private attemptedAt = -1;
  private failure?: Error;
  private parsing = Promise.resolve();
  /** Stops listening for the command's interruption. */
  private unlisten = () => {};

  private readonly rereadHint: string;
  private readonly arrived: ArrivedEntries;

  private constructor(
    readonly what: string,
    readonly compression: StreamCompression,
    readonly limit: number,
    spoolDir: string,
    private readonly input: Readable,
    private readonly plain: Readable,
    rereadHint: string | undefined,
    readers: number | undefined,
  ) {
    this.placer = new EntryPlacer(spoolDir);
    this.readers = new EntryReaders(this.held, readers);
    this.rereadHint = rereadHint ?? 'save the archive to a file and read that';
    this.arrived = {
      what,
      rereadHint: this.rereadHint,
      entries: this.entries,
      held: this.held,
      readOnce: (held) => this.readOnce(held),
    };
  }

  /** open starts reading a stream and waits until the images it holds are known. */
  static async open(input: Readable, options: StreamingOptions) {
    const { head, stream } = await peekStream(input);
    const compression = detectStreamCompression(head);
    const plain = decompressStream(stream, compression, options.limit, options.what);
    const archive = new StreamingArchive(
      options.what,
      compression,
      options.limit,
      options.spoolDir,
      input,
      plain,
      options.rereadHint,
      options.readers,
    );
    archive.parsing = archive.run();
    // An interrupted command stops reading at once, rather than when the stream ends or the
    // entries being read are whole: whoever waits for one fails now.
    const stop = () => archive.interrupt();
    options.signal?.addEventListener('abort', stop, { once: true });
    archive.unlisten = () => options.signal?.removeEventListener('abort', stop);
    if (options.signal?.aborted) stop();
    try {
      return { archive, contents: await archive.contents.promise };
    } catch (error) {
      await archive.close();
      throw error;
    }
  }

  private interrupt(): void {
    this.fail(new InterruptedError());
    this.plain.destroy();
    this.input.destroy();
  }

  /** How many bytes went to spool files. */
  get spooledBytes(): number {
    return this.placer.spooledBytes;
  }

  async head(entry: TarEntry): Promise<Buffer> {
    const held = this.heldFor(entry);
    const root = rootOf(held);
    if (root.state === 'memory') return root.bytes!.subarray(0, MAGIC_LENGTH);
    if (root.head) return root.head;
    if (this.attempting) throw new NotYetArrived();
    return held.headKnown.promise;
  }

  async bytes(entry: TarEntry): Promise<Buffer> {
    const root = rootOf(this.heldFor(entry));
    if (root.state === 'memory') return root.bytes!;
    if (root.state === 'file') return readFile(root.file!);
    const data = this.stream(entry);
    await this.head(entry).catch((error: unknown) => {
      data.destroy();
      throw error;
    });
    return collect(data);
  }

  async digest(entry: TarEntry): Promise<string> {
    const root = rootOf(this.heldFor(entry));
    if (root.state === 'memory') return sha256Digest(root.bytes!);
    return root.digest ?? hashStream(this.stream(entry));
  }

  /**
   * stream gives an entry's data. Once the images are known, a spool file too large to be
   * metadata (read once, by the copy) is deleted when it has been read to its end.
   */
  stream(entry: TarEntry): Readable {
    const held = this.heldFor(entry);
    const root = rootOf(held);
    switch (root.state) {
      case 'memory':
      case 'file':
        return this.placedData(root);
      case 'pending':
        return this.awaitArrival(held);
      case 'placing':
        return this.afterPlaced(root);
      case 'missing':
        throw this.missing(root.entry, held.entry);
      case 'gone':
        throw new UnsupportedError(
          'ARCHIVE_STREAM_REREAD',
          `${this.what}: "${entry.path}" was asked for twice, and a stream is read once`,
          { hint: this.rereadHint },
        );
    }
  }

  /**
   * finish reads the rest of the stream once everything wanted from it has been read, passing
   * over data nobody asked for, and throws what is wrong with it: an archive read as a stream is
   * accepted only whole, as a file is.
   */
  async finish(): Promise<void> {
    this.finishing = true;
    this.readers.wakeUp();
    await this.parsing;
    if (this.failure) throw this.failure;
  }

  /** close stops reading the stream and deletes every spool file. */
  async close(): Promise<void> {
    this.unlisten();
    this.fail(new Error(`${this.what} is closed`));
    this.plain.destroy();
    this.input.destroy();
    await this.parsing;
    await this.placer.remove();
  }

  private async run(): Promise<void> {
    try {
      const source = new StreamTarSource(this.plain, this.what);
      await walkTar(source, this.what, (entry, tar) => this.arrive(entry, tar));
      if (!this.published) this.publish(await readArchiveContents(this));
      this.endMissing();
    } catch (error) {
      this.fail(error as Error);
    } finally {
      this.plain.destroy();
    }
  }

  private async arrive(entry: TarEntry, tar: TarSource): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.published) return this.arriveLate(entry, tar);
    const held = this.record(entry);
    if (entry.type !== 'file' || this.placer.fits(entry.size)) return this.placer.keep(held, tar);
    await this.tryEarly();
    if (this.published) return this.serve(held, tar, entry.size);
    return this.place(held, tar, entry.size);
  }

  /**
   * arriveLate takes an entry that comes after the images are known: a layer they need, a link
   * on the way to one, or something skipped. Paths are checked as the file reader checks them;
   * an entry that would replace one already read is refused rather than silently ignored.
   */
  private async arriveLate(entry: TarEntry, tar: TarSource): Promise<void> {
    checkEntryPaths([entry], this.what);
    const held = this.held.get(entry.path);
    if ((held && held.state !== 'pending') || held?.source) {
      if (await sameAsBefore(held, this.entries.get(entry.path), entry, tar)) return;
      refuseRepeat(this.what, held);
    }
    this.entries.set(entry.path, entry);
    if (!held || !this.readers.wanted(held)) {
      if (held) held.state = 'gone';
      return;
    }
    unfollow(held);
    const chain = [...held.links];
    const next = nextPath(chain, entry, this.what);
    if (next === undefined) {
      held.entry = entry;
      return this.serve(held, tar, entry.size);
    }
    const target = followLateLink(this.arrived, held, entry, next, chain);
    if (target.state !== 'pending') this.handWaiters(target);
  }

  /** record notes an entry that arrives before the images are known; the last of a path wins. */
  private record(entry: TarEntry): Held {
    const known = this.held.get(entry.path);
    if (known) this.placer.forget(known);
    const held = hold(entry);
    this.held.set(entry.path, held);
    this.entries.set(entry.path, entry);
    return held;
  }

  /**
   * tryEarly works out the images before the stream ends, when index.json and manifest.json
   * came first (as regtool writes them): layers not seen yet are expected where the layout
   * puts them. When anything needed has not arrived, reading goes on and it is tried again.
   */
  private async tryEarly(): Promise<void> {
    if (!this.entries.has('index.json') || !this.entries.has('manifest.json')) return;
    if (this.attemptedAt === this.entries.size) return;
    this.attemptedAt = this.entries.size;
    this.attempting = true;
    const expected: TarEntry[] = [];
    try {
      expected.push(...(await expectedLayers(this)));
      for (const entry of expected) {
        this.held.set(entry.path, hold(entry));
        this.entries.set(entry.path, entry);
      }
      this.publish(await readArchiveContents(this));
    } catch {
      // Not yet: the end of the stream tells for sure, and reports what is wrong.
      for (const { path } of expected) {
        this.held.delete(path);
        this.entries.delete(path);
      }
    } finally {
      this.attempting = false;
    }
  }

  private publish(contents: ArchiveContents): void {
    this.published = true;
    for (const blob of contents.blobs.values()) {
      if (blob.source.kind !== 'entry') continue;
      this.readers.add(blob.source.entry.path);
    }
    this.contents.resolve(contents);
  }

  /**
   * serve passes on an entry the images need: a large one straight to those waiting for it once
   * every blob read from it waits, a small one kept in memory once someone asks for anything.
   * While a large one's readers are still on their way (asking the destination what it has), it
   * waits for them; it goes to a spool file instead only when the copy cannot come for it:
   * every blob read at once waits for a later entry, or nobody has asked for or passed over
   * anything for a while.
   */
  private async serve(held: Held, tar: TarSource, size: number): Promise<void> {
    const small = this.placer.fits(size);
    for (;;) {
      if (this.failure) throw this.failure;
      if (!this.readers.read(held) || this.finishing) {
        held.state = 'gone';
        return;
      }
      if (!small && this.readers.allWait(held)) {
        await this.placer.feed(held, takeWaiters(held), tar, size);
        return;
      }
      const waiting = this.readers.anyoneWaits();
      if (waiting && (small || this.readers.copyBlocked(held))) break;
      const changed = await this.readers.change(waiting ? STALL_MS : undefined);
      if (!changed && this.readers.anyoneWaits()) break;
    }
    await this.place(held, tar, size);
  }

  /**
   * pass notes that a blob read from an entry will not be read after all: the destination has
   * it. An entry nobody will read is passed over rather than spooled, and its spool file, if
   * it has one, is deleted.
   */
  pass(entry: TarEntry): void {
    const held = this.held.get(entry.path);
    if (held && this.readers.pass(entry.path)) this.dropUnread(rootOf(held));
  }

  /**
   * expect tells which entries the copy reads (one for each blob it may read): every other
   * entry is passed over rather than waited for or spooled, and spool files nobody will read
   * are deleted.
   */
  expect(entries: TarEntry[]): void {
    this.readers.expect(entries.map(({ path }) => path));
    for (const held of this.held.values()) this.dropUnread(rootOf(held));
  }

  /** dropUnread deletes the spool file of an entry nobody will read. */
  private dropUnread(root: Held): void {
    if (root.state !== 'file' || this.readers.read(root)) return;
    root.state = 'gone';
    void rm(root.file!, { force: true });
  }

  /** place keeps an entry in memory or in a spool file, and gives it to whoever waits. */
  private async place(held: Held, tar: TarSource, size: number): Promise<void> {
    if (this.placer.fits(size)) await this.placer.keep(held, tar);
    else await this.placer.spoolEntry(held, tar, size);
    this.handWaiters(held);
  }

  /** handWaiters gives an entry kept in memory or a spool file to the streams waiting for it. */
  private handWaiters(root: Held): void {
    for (const out of takeWaiters(root)) pipeInto(this.placedData(root), out);
  }

  private awaitArrival(held: Held): Readable {
    if (this.attempting) throw new NotYetArrived();
    if (this.failure) throw this.failure;
    const out = waitingStream();
    held.waiters.push(out);
    out.on('close', () => {
      held.waiters = held.waiters.filter((other) => other !== out);
      this.readers.note();
    });
    this.readers.note();
    return out;
  }

  private afterPlaced(root: Held): Readable {
    const out = waitingStream();
    root.placed.promise.then(
      () => pipeInto(this.placedData(root), out),
      () => out.destroy(),
    );
    return out;
  }

  /**
   * placedData reads an entry kept in memory or in a spool file. The spool file of a layer read
   * once is deleted when it has been read to its end, unless links lead to it too.
   */
  private placedData(root: Held): Readable {
    if (root.state === 'memory') return Readable.from(root.bytes!.length > 0 ? [root.bytes!] : []);
    const data = readFileStream(root.file!);
    if (this.readOnce(root) && root.followers.length === 0) {
      data.on('end', () => {
        root.state = 'gone';
        void rm(root.file!, { force: true });
      });
    }
    return data;
  }

  /**
   * readOnce tells whether an entry is read once, by the copy alone: once the images are known,
   * the one blob read from it, too large to be metadata.
   */
  private readOnce(root: Held): boolean {
    return this.published && this.readers.readByOne(root) && root.entry.size > MAX_METADATA_BYTES;
  }

  private heldFor(entry: TarEntry): Held {
    const held = this.held.get(entry.path);
    if (!held) throw this.missing(entry);
    return held;
  }

  private missing(entry: TarEntry, via?: TarEntry): NotFoundError {
    const link = via && via.path !== entry.path ? via.path : undefined;
    return entryMissing(this.what, entry.path, link);
  }

  /** endMissing fails whoever waits for an entry the stream ended without, or a link to one. */
  private endMissing(): void {
    const roots = new Set<Held>();
    for (const held of this.held.values()) {
      const root = rootOf(held);
      if (root.state !== 'pending') continue;
      roots.add(root);
      this.reject(held, this.missing(root.entry, held.entry));
    }
    for (const root of roots) root.state = 'missing';
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.contents.reject(error);
    for (const held of this.held.values()) this.reject(held, this.failure);
    this.placer.fail(this.failure);
    this.readers.wakeUp();
  }

  /**
   * reject fails whoever waits for an entry. Until its first bytes are known, the reader learns
   * of the failure from head(), and the streams it was given end without an error event that
   * nobody listens to yet.
   */
  private reject(held: Held, error: Error): void {
    held.headKnown.reject(error);
    held.placed.reject(error);
    for (const out of held.waiters) out.destroy(held.head ? error : undefined);
  }
}

/**
 * waitingStream is a stream handed to a reader before its data comes. A failure may end it
 * before the reader listens (while it waits for the first bytes, which then fail too); the
 * reader still finds the error on it, and it must not crash the process meanwhile.
 */
function waitingStream(): PassThrough {
  const out = new PassThrough();
  out.on('error', () => {});
  return out;
}

/** pipeInto feeds a waiting stream, and stops reading when the stream's reader gives up. */
function pipeInto(data: Readable, out: PassThrough): void {
  data.on('error', (error) => out.destroy(error));
  out.on('close', () => data.destroy());
  data.pipe(out);
}
