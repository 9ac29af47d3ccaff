import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import lockfile from 'proper-lockfile';

import { IntegrityError, RegtoolError } from '../../core/errors.js';
import { indexSchema, type Descriptor, type ImageIndex } from '../../core/schemas.js';
import { MediaType } from '../../core/media-types.js';

/** The annotation that names an image in an OCI layout's index.json. */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/** A change to index.json, applied under the lock when the store is closed. */
export type IndexChange =
  | { kind: 'name'; name: string; descriptor: Descriptor }
  | { kind: 'unnamed'; descriptor: Descriptor }
  | { kind: 'remove'; name?: string; digest: string };

export function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
}

/** readIndex reads a layout's index.json; a missing file is an empty index. */
export async function readIndex(dir: string): Promise<ImageIndex> {
  let text: string;
  try {
    text = await readFile(join(dir, 'index.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new IntegrityError('LAYOUT_INVALID', `${join(dir, 'index.json')} is not valid JSON`, {
      cause: error,
      hint: 'the layout is damaged; restore index.json from a backup',
    });
  }
  const result = indexSchema.safeParse(parsed);
  if (!result.success) {
    throw new IntegrityError('LAYOUT_INVALID', `${join(dir, 'index.json')} is not an OCI index`, {
      cause: result.error,
      hint: 'the layout is damaged; restore index.json from a backup',
    });
  }
  return result.data;
}

function applyChange(index: ImageIndex, change: IndexChange): void {
  if (change.kind === 'name') {
    index.manifests = index.manifests.filter(
      (entry) => entry.annotations?.[REF_NAME] !== change.name,
    );
    const annotations = { ...change.descriptor.annotations, [REF_NAME]: change.name };
    index.manifests.push({ ...change.descriptor, annotations });
  } else if (change.kind === 'unnamed') {
    const known = index.manifests.some((entry) => entry.digest === change.descriptor.digest);
    if (!known) index.manifests.push(change.descriptor);
  } else {
    index.manifests = index.manifests.filter((entry) => {
      if (entry.digest !== change.digest) return true;
      return change.name !== undefined && entry.annotations?.[REF_NAME] !== change.name;
    });
  }
}

/** writeFileAtomic writes a file under a temporary name in the same folder, then renames it. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * updateIndex applies changes to index.json under a lock, re-reading the file first, so that
 * two processes writing one layout at once both keep what they wrote.
 */
export async function updateIndex(dir: string, changes: IndexChange[]): Promise<void> {
  if (changes.length === 0) return;
  await mkdir(dir, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, {
      realpath: false,
      lockfilePath: join(dir, 'index.json.lock'),
      stale: 30_000,
      retries: { retries: 200, minTimeout: 20, maxTimeout: 250 },
    });
  } catch (error) {
    throw new RegtoolError(
      'internal',
      'LAYOUT_LOCKED',
      `cannot lock ${dir} to update its index.json`,
      {
        cause: error,
        hint:
          'another regtool may be writing there; wait for it, or remove index.json.lock if ' +
          'none runs',
      },
    );
  }
  try {
    const index = await readIndex(dir);
    for (const change of changes) applyChange(index, change);
    await writeFileAtomic(join(dir, 'index.json'), `${JSON.stringify(index)}\n`);
  } finally {
    await release();
  }
}
