import { createReadStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';

import { sha256Digest } from '../../core/digest.js';
import { IntegrityError, NotFoundError, UnsupportedError } from '../../core/errors.js';
import {
  decompressStream,
  detectStreamCompression,
  MAGIC_LENGTH,
  peekStream,
  type StreamCompression,
} from './compression.js';
import { MAX_METADATA_BYTES, type ArchiveContents } from './contents.js';
import { expectedLayers } from './expected-layers.js';
import { deferred, drained, hold, NotYetArrived, type Held } from './held-entry.js';
import { readArchiveContents } from './flavour.js';
import {
  collect,
  hashStream,
  KEEP_ENTRY_BYTES,
  KEEP_TOTAL_BYTES,
  type IndexedArchive,
} from './indexed-archive.js';
import { checkEntryPaths, linkLoop, linkTarget, MAX_LINKS } from './links.js';
import { eachSlice, firstBytes, SpoolFolder } from './spool-folder.js';
import { StreamTarSource, walkTar, type TarEntry, type TarSource } from './tar-index.js';

/** How an archive arriving on a stream is read. */
export interface StreamingOptions {
  limit: number;
  /** The folder the spool folder is made in. */
  spoolDir: string;
  what: string;
  /** What to do instead when a second read is needed; by default, save the stream to a file. */
  rereadHint?: string;
}

/**
 * StreamingArchive reads an archive arriving on a stream in one pass. Small entries stay in
 * memory; once the images are known, an entry someone asks for is handed over as it arrives,
 * and one that arrives first is spooled to a file until it is asked for. Before the images
 * are known (docker save writes manifest.json last), large entries are spooled.
 */
export class StreamingArchive implements IndexedArchive {
  readonly entries = new Map<string, TarEntry>();
  /** How many bytes went to spool files. */
  spooledBytes = 0;
  private readonly held = new Map<string, Held>();
  private readonly contents = deferred<ArchiveContents>();
  private readonly spool: SpoolFolder;
  private needed = new Set<string>();
  /** Paths that went by after the images were known, unneeded; their data was not kept. */
  private readonly passed = new Set<string>();
  private published = false;
  private attempting = false;
  private attemptedAt = -1;
  private keptBytes = 0;
  private failure?: Error;
  private wake?: () => void;
  private parsing = Promise.resolve();

  private readonly rereadHint: string;

  private constructor(
    readonly what: string,
    readonly compression: StreamCompression,
    readonly limit: number,
    spoolDir: string,
    private readonly input: Readable,
    private readonly plain: Readable,
    rereadHint: string | undefined,
  ) {
    this.spool = new SpoolFolder(spoolDir);
    this.rereadHint = rereadHint ?? 'save the archive to a file and read that';
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
    );
    archive.parsing = archive.run();
    try {
      return { archive, contents: await archive.contents.promise };
    } catch (error) {
      await archive.close();
      throw error;
    }
  }

  async head(entry: TarEntry): Promise<Buffer> {
    const held = this.heldFor(entry);
    if (held.state === 'memory') return held.bytes!.subarray(0, MAGIC_LENGTH);
    if (held.head) return held.head;
    if (this.attempting) throw new NotYetArrived();
    return held.headKnown.promise;
  }

  async bytes(entry: TarEntry): Promise<Buffer> {
    const held = this.heldFor(entry);
    if (held.state === 'memory') return held.bytes!;
    if (held.state === 'file') return readFile(held.file!);
    const data = this.stream(entry);
    await this.head(entry).catch((error: unknown) => {
      data.destroy();
      throw error;
    });
    return collect(data);
  }

  async digest(entry: TarEntry): Promise<string> {
    const held = this.heldFor(entry);
    if (held.state === 'memory') return sha256Digest(held.bytes!);
    return held.digest ?? hashStream(this.stream(entry));
  }

  /**
   * stream gives an entry's data. Once the images are known, a spool file too large to be
   * metadata (read once, by the copy) is deleted when it has been read to its end.
   */
  stream(entry: TarEntry): Readable {
    const held = this.heldFor(entry);
    switch (held.state) {
      case 'memory':
        return Readable.from(held.bytes!.length > 0 ? [held.bytes!] : []);
      case 'file':
        return this.readSpooled(held);
      case 'pending':
        return this.awaitArrival(held);
      case 'placing':
        return this.afterPlaced(held);
      case 'missing':
        throw this.missing(held.entry);
      case 'gone':
        throw new UnsupportedError(
          'ARCHIVE_STREAM_REREAD',
          `${this.what}: "${entry.path}" was asked for twice, and a stream is read once`,
          { hint: this.rereadHint },
        );
    }
  }

  /** close stops reading the stream and deletes every spool file. */
  async close(): Promise<void> {
    this.fail(new Error(`${this.what} is closed`));
    this.plain.destroy();
    this.input.destroy();
    await this.parsing;
    await this.spool.remove();
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
    if (entry.type !== 'file' || this.fits(entry.size)) return this.keep(held, tar);
    await this.tryEarly();
    if (this.published) return this.serve(held, tar, entry.size);
    return this.place(held, tar, entry.size);
  }

  /**
   * arriveLate takes an entry that comes after the images are known: a layer they need, or
   * something skipped. Paths are checked as the file reader checks them; an entry that would
   * replace one already used is refused rather than silently ignored.
   */
  private async arriveLate(entry: TarEntry, tar: TarSource): Promise<void> {
    checkEntryPaths([entry], this.what);
    const held = this.held.get(entry.path);
    if (held && held.state !== 'pending') {
      throw new IntegrityError(
        'ARCHIVE_ENTRY_REPEATED',
        `${this.what}: "${entry.path}" comes again after the image metadata`,
        { hint: 'the archive is damaged or crafted; write it again' },
      );
    }
    if (!held || !this.needed.has(entry.path)) {
      this.passed.add(entry.path);
      return;
    }
    if (entry.type === 'file') return this.serve(held, tar, entry.size);
    if (entry.type === 'symlink' || entry.type === 'hardlink') return this.followLate(held, entry);
    throw new IntegrityError(
      'ARCHIVE_ENTRY_INVALID',
      `${this.what}: "${entry.path}" is not a file`,
      {
        hint: 'the archive is damaged; write it again',
      },
    );
  }

  /**
   * followLate takes a link that arrives where the images need a file. Its target's data is
   * handed on from where it is: memory, a spool file, or the target's own arrival later in the
   * stream. A target the stream has already passed by cannot be read again.
   */
  private async followLate(held: Held, link: TarEntry): Promise<void> {
    const chain = [link.path];
    let path = linkTarget(link, this.what);
    for (;;) {
      if (chain.includes(path) || chain.length > MAX_LINKS)
        throw linkLoop(this.what, [...chain, path]);
      const target = this.held.get(path);
      if (target === undefined && !this.passed.has(path)) {
        // Not arrived yet: its arrival feeds whoever asks for the link.
        this.held.set(path, held);
        this.needed.add(path);
        return;
      }
      if (target === held) throw linkLoop(this.what, [...chain, path]);
      if (target === undefined || target.state === 'gone') throw this.passedBy(link, path);
      if (target.entry.type === 'symlink' || target.entry.type === 'hardlink') {
        chain.push(path);
        path = linkTarget(target.entry, this.what);
        continue;
      }
      if (target.state === 'pending') return this.share(held, target);
      await target.placed.promise;
      return this.copyHeld(held, target);
    }
  }

  /** share hands whoever waits for a link over to its target, which has not arrived yet. */
  private share(link: Held, target: Held): void {
    target.waiters.push(...link.waiters);
    link.waiters = [];
    target.headKnown.promise.then(link.headKnown.resolve, link.headKnown.reject);
    target.placed.promise.then(link.placed.resolve, link.placed.reject);
    this.held.set(link.entry.path, target);
  }

  /** copyHeld gives a link its target's data, kept in memory or in a spool file. */
  private copyHeld(link: Held, target: Held): void {
    const { state, bytes, file, head, digest } = target;
    Object.assign(link, { state, bytes, file, head, digest });
    link.headKnown.resolve(head ?? bytes!.subarray(0, MAGIC_LENGTH));
    link.placed.resolve();
    for (const out of link.waiters.splice(0)) {
      const data = this.stream(link.entry);
      data.on('error', (error) => out.destroy(error));
      data.pipe(out);
    }
  }

  private passedBy(link: TarEntry, path: string): UnsupportedError {
    return new UnsupportedError(
      'ARCHIVE_STREAM_LINK_BACK',
      `${this.what}: "${link.path}" links back to "${path}", which the stream has already passed`,
      { hint: `it is read in one pass: ${this.rereadHint}` },
    );
  }

  /** record notes an entry that arrives before the images are known; the last of a path wins. */
  private record(entry: TarEntry): Held {
    const known = this.held.get(entry.path);
    if (known?.file) void rm(known.file, { force: true });
    if (known?.bytes) this.keptBytes -= known.bytes.length;
    const held = hold(entry);
    this.held.set(entry.path, held);
    this.entries.set(entry.path, entry);
    return held;
  }

  private fits(size: number): boolean {
    return size <= KEEP_ENTRY_BYTES && this.keptBytes + size <= KEEP_TOTAL_BYTES;
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
    for (const blob of contents.blobs.values())
      if (blob.source.kind === 'entry') this.needed.add(blob.source.entry.path);
    this.contents.resolve(contents);
  }

  /**
   * serve passes on an entry the images need once someone asks for it: straight to those
   * waiting for it, else (someone waits for a later entry) to a spool file.
   */
  private async serve(held: Held, tar: TarSource, size: number): Promise<void> {
    if (!this.needed.has(held.entry.path)) {
      held.state = 'gone';
      return;
    }
    while (held.waiters.length === 0 && !this.othersWaiting(held)) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      if (this.failure) throw this.failure;
    }
    if (held.waiters.length > 0) await this.feed(held, tar, size);
    else await this.place(held, tar, size);
  }

  private othersWaiting(held: Held): boolean {
    for (const other of this.held.values())
      if (other !== held && other.waiters.length > 0) return true;
    return false;
  }

  private async feed(held: Held, tar: TarSource, size: number): Promise<void> {
    held.state = 'gone';
    const outs = held.waiters;
    let head: Buffer | undefined;
    await eachSlice(tar, size, async (parts) => {
      if (head === undefined) held.headKnown.resolve((held.head = head = firstBytes(parts)));
      for (const out of outs) if (!out.destroyed) for (const part of parts) out.write(part);
      await Promise.all(outs.map(drained));
    });
    held.headKnown.resolve(Buffer.alloc(0));
    for (const out of outs) out.end();
    held.waiters = [];
    held.placed.resolve();
  }

  private async keep(held: Held, tar: TarSource): Promise<void> {
    const parts: Buffer[] = [];
    await tar.consume(held.entry.type === 'file' ? held.entry.size : 0, (chunk) =>
      parts.push(Buffer.from(chunk)),
    );
    held.bytes = Buffer.concat(parts);
    this.keptBytes += held.bytes.length;
    held.state = 'memory';
    held.headKnown.resolve(held.bytes.subarray(0, MAGIC_LENGTH));
    held.placed.resolve();
  }

  private async place(held: Held, tar: TarSource, size: number): Promise<void> {
    if (this.fits(size)) return this.keep(held, tar);
    held.state = 'placing';
    const spooled = await this.spool.write(tar, size);
    this.spooledBytes += size;
    Object.assign(held, { state: 'file', file: spooled.path });
    held.head = spooled.head;
    held.digest = spooled.digest;
    held.headKnown.resolve(spooled.head);
    held.placed.resolve();
  }

  private awaitArrival(held: Held): Readable {
    if (this.attempting) throw new NotYetArrived();
    if (this.failure) throw this.failure;
    const out = new PassThrough();
    held.waiters.push(out);
    out.on('close', () => {
      if (held.state === 'pending') held.waiters = held.waiters.filter((other) => other !== out);
    });
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    return out;
  }

  private afterPlaced(held: Held): Readable {
    const out = new PassThrough();
    held.placed.promise.then(
      () => {
        const data = this.stream(held.entry);
        data.on('error', (error) => out.destroy(error));
        data.pipe(out);
      },
      () => out.destroy(),
    );
    return out;
  }

  private readSpooled(held: Held): Readable {
    const data = createReadStream(held.file!);
    if (this.published && held.entry.size > MAX_METADATA_BYTES) {
      data.on('end', () => {
        held.state = 'gone';
        void rm(held.file!, { force: true });
      });
    }
    return data;
  }

  private heldFor(entry: TarEntry): Held {
    const held = this.held.get(entry.path);
    if (!held) throw this.missing(entry);
    return held;
  }

  private missing(entry: TarEntry): NotFoundError {
    return new NotFoundError('ARCHIVE_ENTRY_MISSING', `${this.what} has no entry "${entry.path}"`, {
      hint: 'the archive is incomplete or damaged; write it again',
    });
  }

  /** endMissing fails whoever waits for an entry the stream ended without. */
  private endMissing(): void {
    for (const held of this.held.values()) {
      if (held.state !== 'pending') continue;
      held.state = 'missing';
      this.reject(held, this.missing(held.entry));
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.contents.reject(error);
    for (const held of this.held.values()) this.reject(held, this.failure);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
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
