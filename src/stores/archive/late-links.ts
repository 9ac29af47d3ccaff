import { UnsupportedError } from '../../core/errors.js';
import { follow, hold, type Held } from './held-entry.js';
import { nextPath } from './links.js';
import type { TarEntry } from './tar-index.js';

/** What following a link needs to know of a stream read so far. */
export interface ArrivedEntries {
  readonly what: string;
  /** What to do instead when a second read is needed. */
  readonly rereadHint: string;
  /** Every entry that has arrived, and the layers the images expect further on. */
  readonly entries: ReadonlyMap<string, TarEntry>;
  readonly held: Map<string, Held>;
  /** readOnce tells whether an entry's data goes once the copy has read it. */
  readOnce(held: Held): boolean;
}

/**
 * followLateLink follows a link that arrives, once the images are known, where they need a file
 * (or where such a link leads), counting every link of the lookup as the file reader does:
 * `chain` holds those followed so far, `to` is where this one leads. The link's readers become
 * readers of the file it ends at, which is returned: kept in memory or a spool file, or expected
 * later (a file not arrived yet is expected where the link leads). A file the stream has passed
 * by, or a layer the copy reads once, cannot be read again.
 */
export function followLateLink(
  stream: ArrivedEntries,
  held: Held,
  link: TarEntry,
  to: string,
  chain: string[],
): Held {
  let path = to;
  for (let entry = stream.entries.get(path); entry; entry = stream.entries.get(path)) {
    const next = nextPath(chain, entry, stream.what);
    if (next === undefined) break;
    path = next;
  }
  let target = stream.held.get(path);
  if (!stream.entries.has(path) && !target) {
    target = hold({ path, type: 'file', size: 0, offset: -1 });
    stream.held.set(path, target);
  }
  const readOnce = target?.state === 'file' && stream.readOnce(target);
  if (!target || target.state === 'gone' || readOnce) throw passedBy(stream, link, path);
  follow(held, target, chain);
  return target;
}

function passedBy(stream: ArrivedEntries, link: TarEntry, path: string): UnsupportedError {
  return new UnsupportedError(
    'ARCHIVE_STREAM_LINK_BACK',
    `${stream.what}: "${link.path}" links back to "${path}", which the stream has already passed`,
    { hint: `it is read in one pass: ${stream.rereadHint}` },
  );
}
