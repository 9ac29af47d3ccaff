import { createHash } from 'node:crypto';
import { lstat, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { MAGIC_LENGTH } from './compression.js';
import { STALE_TEMP_MS } from './output-file.js';
import type { TarSource } from './tar-index.js';

/** How much of an entry is read at once while it is passed on: bounds memory per entry. */
const SLICE_BYTES = 1 << 20;

/** eachSlice reads an entry's data from a tar in slices, waiting for `use` after each. */
export async function eachSlice(
  tar: TarSource,
  size: number,
  use: (parts: Buffer[]) => Promise<void>,
): Promise<void> {
  for (let left = size; left > 0;) {
    const parts: Buffer[] = [];
    const length = Math.min(left, SLICE_BYTES);
    await tar.consume(length, (chunk) => parts.push(chunk));
    left -= length;
    await use(parts);
  }
}

/** firstBytes is the start of a slice, enough to tell its compression. */
export function firstBytes(parts: Buffer[]): Buffer {
  const head: Buffer[] = [];
  let length = 0;
  for (const part of parts) {
    if (length >= MAGIC_LENGTH) break;
    head.push(part.subarray(0, MAGIC_LENGTH - length));
    length += head.at(-1)!.length;
  }
  return Buffer.concat(head);
}

const SPOOL_PREFIX = '.regtool-spool-';

/**
 * removeStaleSpools removes the spool folders in `parent` untouched for an hour: what a load
 * killed outright left behind. A live load's folder changes as its entries come and go.
 */
export async function removeStaleSpools(parent: string, now = Date.now()): Promise<number> {
  const names = await readdir(parent).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names.filter((entry) => entry.startsWith(SPOOL_PREFIX))) {
    const stats = await lstat(join(parent, name)).catch(() => undefined);
    if (!stats?.isDirectory() || now - stats.mtimeMs < STALE_TEMP_MS) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

/** A spooled entry: its file, first bytes and sha256 digest. */
export interface SpooledEntry {
  path: string;
  head: Buffer;
  digest: string;
}

/**
 * SpoolFolder keeps the entries of a streamed archive that arrive before anyone asks for
 * them, each in its own file of one temporary folder, made when first needed.
 */
export class SpoolFolder {
  private folder?: Promise<string>;
  private count = 0;

  constructor(private readonly parent: string) {}

  /** write copies an entry's data from the tar into a new file of the folder. */
  async write(tar: TarSource, size: number): Promise<SpooledEntry> {
    this.folder ??= this.create();
    this.count += 1;
    const path = join(await this.folder, `entry-${this.count}`);
    const file = await open(path, 'w');
    const hash = createHash('sha256');
    let head: Buffer | undefined;
    try {
      await eachSlice(tar, size, async (parts) => {
        head ??= firstBytes(parts);
        for (const part of parts) hash.update(part);
        await file.writev(parts);
      });
    } finally {
      await file.close();
    }
    return { path, head: head ?? Buffer.alloc(0), digest: `sha256:${hash.digest('hex')}` };
  }

  private async create(): Promise<string> {
    await removeStaleSpools(this.parent);
    return mkdtemp(join(this.parent, SPOOL_PREFIX));
  }

  /** remove deletes the folder and every file left in it. */
  async remove(): Promise<void> {
    const folder = await this.folder?.catch(() => undefined);
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  }
}
