import { createHash } from 'node:crypto';

import { sha256Digest } from '../../core/digest.js';
import { IntegrityError } from '../../core/errors.js';
import { rootOf, type Held } from './held-entry.js';
import type { TarEntry, TarSource } from './tar-index.js';

/**
 * sameAsBefore tells whether an entry that comes again, after the images are known, is the
 * same as the one before it: the same link or folder, or a file with the same bytes (compared
 * by digest, its data read through). Extracting the tar would give the same either way, so it
 * is let by.
 */
export async function sameAsBefore(
  held: Held,
  before: TarEntry | undefined,
  entry: TarEntry,
  tar: TarSource,
): Promise<boolean> {
  if (before?.type !== 'file' || entry.type !== 'file') {
    return before?.type === entry.type && before.linkpath === entry.linkpath;
  }
  const digest = knownDigest(held);
  if (digest === undefined || entry.size !== held.entry.size) return false;
  const hash = createHash('sha256');
  await tar.consume(entry.size, (chunk) => hash.update(chunk));
  return `sha256:${hash.digest('hex')}` === digest;
}

/**
 * knownDigest is the digest of an entry's data once it has arrived: kept in memory, spooled, or
 * handed to the copy, which checked it against the blob path that names it.
 */
function knownDigest(held: Held): string | undefined {
  if (held.state === 'memory') return sha256Digest(held.bytes!);
  if (held.state === 'file') return held.digest;
  const blob = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(held.entry.path);
  return held.state === 'gone' && blob ? `sha256:${blob[1]}` : undefined;
}

/**
 * refuseRepeat refuses an entry that comes again, different, once its data has arrived. A link
 * may come again leading elsewhere while the file it led to has not arrived: as when a tar is
 * extracted, the last one counts.
 */
export function refuseRepeat(what: string, held: Held): void {
  if (held.state === 'pending' && rootOf(held).state === 'pending') return;
  throw new IntegrityError(
    'ARCHIVE_ENTRY_REPEATED',
    `${what}: "${held.entry.path}" comes again after the image metadata`,
    { hint: 'the archive is damaged or crafted; write it again' },
  );
}
