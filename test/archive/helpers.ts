/** Reading archives through the store interface, as load and save do. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

import { execa } from 'execa';

import { parseDigest } from '../../src/core/digest.js';
import { parseManifest } from '../../src/core/manifest.js';
import { parseReference } from '../../src/core/reference.js';
import type { Descriptor } from '../../src/core/schemas.js';
import type { Store } from '../../src/core/store.js';
import { copyImages, type CopyRequest } from '../../src/copy/copy-images.js';
import type { PlatformChoice } from '../../src/copy/plan.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import { ArchiveWriter } from '../../src/stores/archive/archive-writer.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { tempDir } from '../helpers/cli.js';

const UNNAMED = parseReference('untagged', { defaultTag: false });

/** requestsFor copies every image of an archive, unnamed ones by digest. */
export function requestsFor(reader: ArchiveReader): CopyRequest[] {
  return reader.images.map((image) =>
    image.reference
      ? { source: image.reference, asTyped: image.name }
      : {
          source: UNNAMED.withDigest(parseDigest(image.descriptor.digest)),
          target: UNNAMED,
        },
  );
}

/**
 * loadInto copies every image of an archive, a file or a stream, into a layout, committing or
 * aborting it, as load does: a stream is read to its end first. With `once`, a compressed file is read in one streaming pass, as load reads it.
 */
export async function loadInto(
  input: string | Readable,
  dir = join(tempDir(), 'store'),
  options: { spoolDir?: string; jobs?: number; once?: boolean } = {},
) {
  const { spoolDir, once } = options;
  const reader = await ArchiveReader.open(input, { spoolDir, once });
  const layout = new LayoutStore(dir);
  try {
    await copyImages(reader, layout, requestsFor(reader), { jobs: options.jobs });
    await reader.finish();
    await layout.close();
  } catch (error) {
    await layout.abort();
    throw error;
  } finally {
    await reader.close();
  }
  return { dir, layout, reader, images: reader.images, flavour: reader.flavour };
}

/** saveFrom writes images of a store to an archive file. */
export async function saveFrom(
  source: Store,
  names: string[],
  path: string,
  platforms: PlatformChoice = { kind: 'all' },
): Promise<void> {
  const writer = await ArchiveWriter.toFile(path, {});
  try {
    await copyImages(
      source,
      writer,
      names.map((name) => ({ source: parseReference(name), asTyped: name })),
      { platforms },
    );
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** manifestOf reads and parses an image's manifest from a store. */
export async function manifestOf(store: Store, descriptor: Descriptor) {
  const { bytes } = await store.getManifest('', descriptor);
  return parseManifest(bytes, descriptor.mediaType);
}

/** tarList lists an archive's entries with the system tar. */
export async function tarList(path: string): Promise<string[]> {
  const { stdout } = await execa('tar', ['tf', path]);
  return stdout.split('\n').filter(Boolean);
}

/** blobCount counts the blobs a layout directory holds. */
export function blobCount(dir: string): number {
  const blobs = join(dir, 'blobs', 'sha256');
  return existsSync(blobs) ? readdirSync(blobs).length : 0;
}
