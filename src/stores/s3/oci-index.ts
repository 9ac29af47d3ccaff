import { IntegrityError } from '../../core/errors.js';
import { MediaType } from '../../core/media-types.js';
import { indexSchema, type Descriptor, type ImageIndex } from '../../core/schemas.js';
import type { ObjectStorage } from './object-storage.js';

/** The annotation that names an image in an OCI layout's index.json. */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/** A name or an unnamed image to add to index.json when the store is closed. */
export type IndexEntry = { name?: string; descriptor: Descriptor };

/** readOciIndex reads index.json; a missing one is an empty index. */
export async function readOciIndex(storage: ObjectStorage): Promise<ImageIndex> {
  const bytes = await storage.read('index.json');
  if (bytes === undefined)
    return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
  const where = `${storage.location}/index.json`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new IntegrityError('LAYOUT_INVALID', `${where} is not valid JSON`, {
      cause: error,
      hint: 'the layout is damaged; restore index.json from a backup',
    });
  }
  const result = indexSchema.safeParse(parsed);
  if (!result.success) {
    throw new IntegrityError('LAYOUT_INVALID', `${where} is not an OCI index`, {
      cause: result.error,
      hint: 'the layout is damaged; restore index.json from a backup',
    });
  }
  return result.data;
}

/** mergeIndexEntries adds names (replacing an entry of the same name) and unnamed images. */
export function mergeIndexEntries(index: ImageIndex, entries: IndexEntry[]): ImageIndex {
  let manifests = [...index.manifests];
  for (const { name, descriptor } of entries) {
    if (name === undefined) {
      if (!manifests.some((entry) => entry.digest === descriptor.digest))
        manifests.push(descriptor);
      continue;
    }
    manifests = manifests.filter((entry) => entry.annotations?.[REF_NAME] !== name);
    manifests.push({ ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME]: name } });
  }
  return { ...index, manifests };
}
