import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** How old a temporary file must be before it is taken for one a killed writer left. */
export const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * removeTempFiles removes the files of a layout's temporary folder and returns how many it
 * removed. With `olderThanMs`, only files older than that go: a live writer's files are recent.
 */
export async function removeTempFiles(folder: string, olderThanMs = 0): Promise<number> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const now = Date.now();
  let removed = 0;
  for (const name of names) {
    const path = join(folder, name);
    const stats = await stat(path).catch(() => undefined);
    if (!stats || now - stats.mtimeMs < olderThanMs) continue;
    await rm(path, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}
