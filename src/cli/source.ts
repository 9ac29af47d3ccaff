import { NotFoundError, UnsupportedError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import type { Context, ImageArgument } from './context.js';

/**
 * findSource opens the store an image is read from: `--from` when given; else the local store
 * when it holds the image; else the registry the image's name points at.
 */
export async function findSource(
  context: Context,
  image: ImageArgument,
  from: string | undefined,
): Promise<Store> {
  if (from !== undefined) return context.open(from, 'read');
  const local = await context.open(undefined, 'read');
  try {
    await local.resolve(image.reference, image.asTyped);
    return local;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  try {
    return await context.open(
      { kind: 'registry', host: image.reference.domain, prefix: '' },
      'read',
    );
  } catch (error) {
    if (error instanceof UnsupportedError) {
      throw new NotFoundError('IMAGE_NOT_FOUND', `${image.asTyped} is not in the local store`, {
        hint: 'load or pull it first, or name its store with --from',
        cause: error,
      });
    }
    throw error;
  }
}
