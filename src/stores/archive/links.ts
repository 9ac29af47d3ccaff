import { posix } from 'node:path';

import { IntegrityError, NotFoundError } from '../../core/errors.js';
import type { TarEntry } from './tar-index.js';

/** How many links one lookup may follow before it is called a loop. */
export const MAX_LINKS = 32;

function unsafe(what: string, path: string, why: string): IntegrityError {
  return new IntegrityError('ARCHIVE_UNSAFE_PATH', `${what}: entry "${path}" ${why}`, {
    hint: 'the archive may be crafted to escape its directory; do not use it',
  });
}

/**
 * archivePath normalizes a path that names an entry inside an archive, refusing absolute
 * paths and any path that climbs out of the archive with `..`.
 */
export function archivePath(path: string, what: string): string {
  if (path.startsWith('/')) throw unsafe(what, path, 'is an absolute path');
  const normalized = posix
    .normalize(path)
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../')) {
    throw unsafe(what, path, 'leads out of the archive');
  }
  return normalized;
}

/** checkEntryPaths refuses an archive holding any entry whose path is absolute or climbs out. */
export function checkEntryPaths(entries: Iterable<TarEntry>, what: string): void {
  for (const entry of entries) {
    if (entry.path.startsWith('/') || entry.path.split('/').includes('..')) {
      throw unsafe(what, entry.path, 'has an absolute path or a ".." component');
    }
  }
}

/**
 * findEntry finds the file entry a path names, following symbolic links (relative to the
 * link's folder) and hard links (relative to the archive's root), wherever in the archive the
 * link and its target are. A link that leaves the archive, or a loop, is an error.
 */
export function findEntry(
  entries: ReadonlyMap<string, TarEntry>,
  path: string,
  what: string,
): TarEntry {
  let current = archivePath(path, what);
  const chain: string[] = [];
  for (;;) {
    const entry = entries.get(current);
    if (!entry) throw entryMissing(what, current, chain[0]);
    const next = nextPath(chain, entry, what);
    if (next === undefined) return entry;
    current = next;
  }
}

/** entryMissing is the error for an entry an archive lacks, maybe asked for through a link. */
export function entryMissing(what: string, path: string, link?: string): NotFoundError {
  const via = link === undefined ? '' : ` (through the link ${link})`;
  return new NotFoundError('ARCHIVE_ENTRY_MISSING', `${what} has no entry "${path}"${via}`, {
    hint: 'the archive is incomplete or damaged; write it again',
  });
}

/**
 * nextPath is one step of a lookup: nothing for a file, else the path a link leads to, noted
 * in `chain` (the links followed so far). Every reader of an archive steps through links
 * with it, so that they agree on what is a loop, how many links are too many, and what is not
 * a file.
 */
export function nextPath(chain: string[], entry: TarEntry, what: string): string | undefined {
  if (entry.type === 'file') return undefined;
  if ((entry.type !== 'symlink' && entry.type !== 'hardlink') || !entry.linkpath) {
    throw new IntegrityError('ARCHIVE_ENTRY_INVALID', `${what}: "${entry.path}" is not a file`, {
      hint: 'the archive is damaged; write it again',
    });
  }
  if (chain.includes(entry.path) || chain.length >= MAX_LINKS) {
    throw linkLoop(what, [...chain, entry.path]);
  }
  chain.push(entry.path);
  return linkTarget(entry, what);
}

/**
 * linkTarget is the path a link entry names: relative to the link's folder for a symbolic
 * link, to the archive's root for a hard link. A target outside the archive is an error.
 */
export function linkTarget(link: TarEntry, what: string): string {
  const linkpath = link.linkpath ?? '';
  if (linkpath.startsWith('/')) throw unsafe(what, link.path, 'is a link to an absolute path');
  const target =
    link.type === 'symlink' ? posix.join(posix.dirname(link.path), linkpath) : linkpath;
  return archivePath(target, what);
}

/** linkLoop is the error for links that lead back to themselves, or too many links in a row. */
export function linkLoop(what: string, paths: string[]): IntegrityError {
  return new IntegrityError(
    'ARCHIVE_LINK_LOOP',
    `${what}: links loop at "${paths.join('" -> "')}"`,
    {
      hint: 'the archive is damaged; write it again',
    },
  );
}
