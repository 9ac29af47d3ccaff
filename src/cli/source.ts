import { NotFoundError, UnsupportedError, UsageError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import type { Context, ImageArgument } from './context.js';

/** When an image is taken from its registry rather than the local store. */
export type PullPolicy = 'missing' | 'always' | 'never';

const pullPolicies: readonly PullPolicy[] = ['missing', 'always', 'never'];

/** parsePullPolicy reads `--pull missing|always|never`. */
export function parsePullPolicy(value: unknown): PullPolicy {
  if (value === undefined) return 'missing';
  if (pullPolicies.includes(value as PullPolicy)) return value as PullPolicy;
  throw new UsageError('USAGE', `--pull must be missing, always or never, not "${String(value)}"`, {
    hint:
      'missing takes the local copy when there is one; always asks the registry; never only ' +
      'the local store',
  });
}

function openRegistry(context: Context, image: ImageArgument): Promise<Store> {
  return context.open({ kind: 'registry', host: image.reference.domain, prefix: '' }, 'read');
}

/**
 * findSource opens the store an image is read from: `--from` when given; else the local store
 * when it holds the image; else the registry the image's name points at. `pull` changes the
 * last two: `always` goes to the registry, `never` only to the local store.
 */
export async function findSource(
  context: Context,
  image: ImageArgument,
  from: string | undefined,
  pull: PullPolicy = 'missing',
): Promise<Store> {
  if (from !== undefined) return context.open(from, 'read');
  if (pull === 'always') return openRegistry(context, image);
  const local = await context.open(undefined, 'read');
  try {
    await local.resolve(image.reference, image.asTyped);
    return local;
  } catch (error) {
    if (!(error instanceof NotFoundError) || pull === 'never') throw error;
  }
  try {
    return await openRegistry(context, image);
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
