import { relative, isAbsolute } from 'node:path';

import { RegtoolError } from '../../core/errors.js';

/** What to do about the file system errors a layout meets while it is written. */
const HINTS: Record<string, string> = {
  ENOSPC: 'free some space on its file system, or write to a directory on another one',
  EDQUOT: 'your disk quota is used up: free some space, or write to another directory',
  EROFS: 'its file system is mounted read-only: write to another directory',
  EACCES: "check the directory's permissions, or write to another directory",
  EPERM: "check the directory's permissions, or write to another directory",
  EEXIST: 'something in it is a file where a folder belongs: move it away, or write elsewhere',
  ENOTDIR: 'something in it is a file where a folder belongs: move it away, or write elsewhere',
  EISDIR: 'something in it is a folder where a file belongs: move it away, or write elsewhere',
};

/**
 * writeFailure turns a file system error met while writing to the layout in `dir` into one
 * that says so, with what to do about it. Other errors (a source that failed, a digest that
 * disagrees, an error about a file elsewhere) are returned as they are.
 */
export function writeFailure(dir: string, location: string, error: unknown): unknown {
  const { code, path } = error as NodeJS.ErrnoException;
  if (error instanceof RegtoolError || typeof code !== 'string') return error;
  if (path !== undefined) {
    const inside = relative(dir, path);
    if (inside.startsWith('..') || isAbsolute(inside)) return error;
  }
  return new RegtoolError(
    'internal',
    'LAYOUT_WRITE_FAILED',
    `cannot write to ${location}: ${(error as Error).message}`,
    { cause: error, hint: HINTS[code] ?? 'check the directory and its file system' },
  );
}
