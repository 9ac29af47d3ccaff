import { rm } from 'node:fs/promises';
import type { PassThrough } from 'node:stream';

import { MAGIC_LENGTH } from './compression.js';
import { drained, type Held } from './held-entry.js';
import { KEEP_ENTRY_BYTES, KEEP_TOTAL_BYTES } from './indexed-archive.js';
import { eachSlice, firstBytes, SpoolFolder } from './spool-folder.js';
import type { TarSource } from './tar-index.js';

/**
 * EntryPlacer puts the data of the entries of an archive read as a stream where their readers
 * find it: in memory (small entries, up to a total), in a spool file, or straight into the
 * streams that wait for it.
 */
export class EntryPlacer {
  /** How many bytes went to spool files. */
  spooledBytes = 0;
  private keptBytes = 0;
  /** The streams being fed right now; a failure ends them too. */
  private feeding: PassThrough[] = [];
  private readonly spool: SpoolFolder;

  /** The spool folder is made in `spoolDir` when first needed. */
  constructor(spoolDir: string) {
    this.spool = new SpoolFolder(spoolDir);
  }

  /** fits tells whether an entry of this size is kept in memory. */
  fits(size: number): boolean {
    return size <= KEEP_ENTRY_BYTES && this.keptBytes + size <= KEEP_TOTAL_BYTES;
  }

  async keep(held: Held, tar: TarSource): Promise<void> {
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

  async spoolEntry(held: Held, tar: TarSource, size: number): Promise<void> {
    held.state = 'placing';
    const spooled = await this.spool.write(tar, size);
    this.spooledBytes += size;
    Object.assign(held, { state: 'file', file: spooled.path });
    held.head = spooled.head;
    held.digest = spooled.digest;
    held.headKnown.resolve(spooled.head);
    held.placed.resolve();
  }

  /** feed hands an entry's data to the streams waiting for it as it arrives; it is then gone. */
  async feed(held: Held, outs: PassThrough[], tar: TarSource, size: number): Promise<void> {
    held.state = 'gone';
    this.feeding = outs;
    let head: Buffer | undefined;
    await eachSlice(tar, size, async (parts) => {
      if (head === undefined) held.headKnown.resolve((held.head = head = firstBytes(parts)));
      for (const out of outs) if (!out.destroyed) for (const part of parts) out.write(part);
      // A reader that fails destroys its stream, which wakes this as a drain does.
      await Promise.all(outs.map(drained));
    });
    this.feeding = [];
    held.headKnown.resolve(Buffer.alloc(0));
    for (const out of outs) out.end();
    held.placed.resolve();
  }

  /** forget lets go of the data of an entry that a later one of the same path replaces. */
  forget(held: Held): void {
    if (held.file) void rm(held.file, { force: true });
    if (held.bytes) this.keptBytes -= held.bytes.length;
  }

  /** fail ends the streams being fed with an error. */
  fail(error: Error): void {
    for (const out of this.feeding) out.destroy(error);
  }

  /** remove deletes the spool folder and every file in it. */
  async remove(): Promise<void> {
    await this.spool.remove();
  }
}
