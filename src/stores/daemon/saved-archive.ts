import { NotFoundError } from '../../core/errors.js';
import type { Reference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type { ImageEntry, Store } from '../../core/store.js';

/**
 * resolveSaved finds the image in an archive the daemon saved for one name. The daemon may
 * have written it under another spelling of that name, so the archive's only image is the one
 * asked for.
 */
export async function resolveSaved(archive: Store, reference: Reference, asTyped?: string) {
  try {
    return await archive.resolve(reference, asTyped);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    return onlyImage(archive, `${reference}`);
  }
}

/** onlyImage is the one image of an archive saved for one image ID or name. */
export async function onlyImage(archive: Store, name: string): Promise<Descriptor> {
  const entries: ImageEntry[] = [];
  for await (const entry of archive.listImages()) entries.push(entry);
  if (entries.length !== 1) {
    throw new NotFoundError(
      'DAEMON_IMAGE_NOT_FOUND',
      `the daemon saved ${entries.length} images for ${name}, and none by that name`,
      { hint: 'name the image by repository:tag' },
    );
  }
  return entries[0]!.descriptor;
}
