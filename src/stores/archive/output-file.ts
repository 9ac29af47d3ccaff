import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, readlink, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { NotFoundError, UsageError } from '../../core/errors.js';

/** How long a temporary file may sit beside an output before save takes it for left over. */
export const STALE_TEMP_MS = 60 * 60 * 1000;
/** Symbolic links followed before giving up, as the kernel does. */
const MAX_LINKS = 40;

/**
 * Where an archive goes: a `file` is written under `temp` and renamed over `target` on close;
 * a `stream` (a device, FIFO or socket) is written straight through, as standard output is.
 */
export type OutputFile =
  | { kind: 'file'; handle: FileHandle; temp: string; target: string }
  | { kind: 'stream'; handle: FileHandle; target: string };

function cannotWrite(path: string, error: unknown): NotFoundError {
  return new NotFoundError(
    'ARCHIVE_OUTPUT_INVALID',
    `cannot write ${path}: ${(error as Error).message}`,
    {
      hint: 'check that the folder exists and is writable',
      cause: error,
    },
  );
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** followLinks resolves a chain of symbolic links to the path it ends at (which may not exist). */
async function followLinks(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < MAX_LINKS; hops += 1) {
    const stats = await lstat(current).catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw cannotWrite(path, error);
    });
    if (!stats?.isSymbolicLink()) return current;
    current = resolve(dirname(current), await readlink(current));
  }
  throw new UsageError('ARCHIVE_OUTPUT_INVALID', `${path} is a loop of symbolic links`, {
    hint: 'point the output at a file',
  });
}

/**
 * removeStaleTemps removes `.NAME.*.tmp` files beside an output older than an hour: what a
 * killed save left behind (a live save's file is recent).
 */
export async function removeStaleTemps(target: string, now = Date.now()): Promise<number> {
  const folder = dirname(target);
  const prefix = `.${basename(target)}.`;
  const names = await readdir(folder).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const stats = await lstat(join(folder, name)).catch(() => undefined);
    if (!stats?.isFile() || now - stats.mtimeMs < STALE_TEMP_MS) continue;
    await rm(join(folder, name), { force: true });
    removed += 1;
  }
  return removed;
}

/**
 * openOutputFile opens where an archive goes. A regular file (or a new one) is replaced
 * whole by temp+rename; a symbolic link keeps its place and its target gets the archive; a
 * device, FIFO or socket is written straight through; a folder is a UsageError.
 */
export async function openOutputFile(path: string): Promise<OutputFile> {
  const target = await followLinks(path);
  const stats = await stat(target).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw cannotWrite(path, error);
  });
  if (stats?.isDirectory()) {
    throw new UsageError('ARCHIVE_OUTPUT_IS_FOLDER', `${path} is a folder, not an archive file`, {
      hint: `name a file, e.g. ${join(path, 'images.tar')}`,
    });
  }
  if (stats && !stats.isFile()) {
    const handle = await open(target, 'w').catch((error: unknown) => {
      throw cannotWrite(path, error);
    });
    return { kind: 'stream', handle, target };
  }
  await removeStaleTemps(target);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx').catch((error: unknown) => {
    throw cannotWrite(path, error);
  });
  return { kind: 'file', handle, temp, target };
}
