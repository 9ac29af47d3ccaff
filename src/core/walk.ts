import { UnsupportedError, IntegrityError } from './errors.js';
import { parseManifest, type ParsedManifest } from './manifest.js';
import { isManifestMediaType } from './media-types.js';
import type { Descriptor } from './schemas.js';

/** How deep indexes may nest before regtool calls it a mistake. */
export const MAX_INDEX_DEPTH = 8;

/** One manifest met while walking an image, with its exact bytes. */
export interface WalkedManifest {
  descriptor: Descriptor;
  parsed: ParsedManifest;
  depth: number;
}

export type FetchManifest = (
  descriptor: Descriptor,
) => Promise<{ bytes: Uint8Array; mediaType?: string }>;

/** isManifestDescriptor tells entries of an index that are manifests from those that are blobs. */
export function isManifestDescriptor(descriptor: Descriptor): boolean {
  return isManifestMediaType(descriptor.mediaType);
}

/**
 * walkManifests visits a manifest and every manifest under it, depth first, children
 * after their parent. A manifest reached again through another path is visited once; a
 * loop (an index that contains itself, directly or not) and nesting deeper than
 * MAX_INDEX_DEPTH are errors. `include` can narrow which index entries are followed.
 */
export async function walkManifests(
  root: Descriptor,
  fetch: FetchManifest,
  visit: (manifest: WalkedManifest) => Promise<void> | void,
  include: (entry: Descriptor, parent: WalkedManifest) => boolean = () => true,
): Promise<void> {
  const done = new Set<string>();
  const walk = async (descriptor: Descriptor, depth: number, path: string[]): Promise<void> => {
    if (path.includes(descriptor.digest)) {
      throw new IntegrityError(
        'MANIFEST_LOOP',
        `index ${path.at(-1)} contains itself through ${descriptor.digest}`,
        {
          hint: 'the image is malformed: an index must not point back at one of its parents',
        },
      );
    }
    if (depth > MAX_INDEX_DEPTH) {
      throw new UnsupportedError(
        'INDEX_TOO_DEEP',
        `indexes nest deeper than ${MAX_INDEX_DEPTH} under ${path[0]}`,
      );
    }
    if (done.has(descriptor.digest)) return;
    done.add(descriptor.digest);
    const { bytes, mediaType } = await fetch(descriptor);
    const parsed = parseManifest(
      bytes,
      mediaType ?? descriptor.mediaType,
      `manifest ${descriptor.digest}`,
    );
    const walked: WalkedManifest = {
      descriptor: { ...descriptor, mediaType: parsed.mediaType },
      parsed,
      depth,
    };
    await visit(walked);
    if (parsed.kind !== 'index') return;
    for (const entry of parsed.index.manifests) {
      if (!include(entry, walked)) continue;
      if (!isManifestDescriptor(entry)) continue;
      await walk(entry, depth + 1, [...path, descriptor.digest]);
    }
  };
  await walk(root, 0, []);
}
