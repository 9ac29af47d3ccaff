import { descriptorSchema } from '../../core/schemas.js';
import { walkManifests } from '../../core/walk.js';
import { blobPath } from './archive-layout.js';
import { readEntryBytes, readJsonFile } from './contents.js';
import type { IndexedArchive } from './indexed-archive.js';
import { findEntry } from './links.js';
import type { TarEntry } from './tar-index.js';

/**
 * expectedLayers reads an archive's index.json and every manifest and config under it, all of
 * which must be there already, and returns an entry at `blobs/<algorithm>/<hex>` for each
 * layer not yet seen: where a layout (regtool's own archives among them) keeps it. It throws
 * when anything it reads is missing or malformed.
 */
export async function expectedLayers(archive: IndexedArchive): Promise<TarEntry[]> {
  const { value } = await readJsonFile(archive, 'index.json');
  const roots = descriptorSchema.array().parse((value as { manifests?: unknown }).manifests);
  const read = async (digest: string) => ({
    bytes: await readEntryBytes(
      archive,
      findEntry(archive.entries, blobPath(digest), archive.what),
    ),
  });
  const expected = new Map<string, TarEntry>();
  for (const root of roots) {
    await walkManifests(
      root,
      (descriptor) => read(descriptor.digest),
      async ({ parsed }) => {
        if (parsed.kind !== 'image') return;
        await read(parsed.manifest.config.digest);
        for (const { digest, size } of parsed.manifest.layers) {
          const path = blobPath(digest);
          if (!archive.entries.has(path) && !expected.has(path))
            expected.set(path, { path, type: 'file', size, offset: -1 });
        }
      },
    );
  }
  return [...expected.values()];
}
