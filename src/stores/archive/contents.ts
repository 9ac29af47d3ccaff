import { IntegrityError } from '../../core/errors.js';
import type { Reference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type { IndexedArchive } from './indexed-archive.js';
import { findEntry } from './links.js';
import type { TarEntry } from './tar-index.js';

/** Metadata files larger than this are refused rather than read into memory. */
export const MAX_METADATA_BYTES = 16 << 20;

/** Where a blob's bytes are: an archive entry, or bytes regtool rebuilt (manifests, configs). */
export type BlobSource = { kind: 'entry'; entry: TarEntry } | { kind: 'bytes'; bytes: Uint8Array };

/** A blob the archive holds, with what regtool knows of it. */
export interface ArchiveBlob {
  digest: string;
  size: number;
  source: BlobSource;
  /** For a compressed layer: the config's diff_id its uncompressed bytes must have. */
  diffId?: string;
}

/** An image the archive names (or holds unnamed). */
export interface ArchiveImage {
  /** The name as the archive writes it (a RepoTag or a ref.name annotation). */
  name?: string;
  reference?: Reference;
  descriptor: Descriptor;
}

/** Everything an archive holds, by digest, whatever its flavour. */
export interface ArchiveContents {
  /** Which writer's format it is: `oci`, `docker`, `docker+oci`, `docker-legacy`. */
  flavour: string;
  images: ArchiveImage[];
  blobs: Map<string, ArchiveBlob>;
  /** What the reader should be told: names that were dropped or moved, say. */
  warnings: string[];
}

/** addBlob records a blob once; the first source seen is kept. */
export function addBlob(contents: ArchiveContents, blob: ArchiveBlob): void {
  const known = contents.blobs.get(blob.digest);
  if (!known) {
    contents.blobs.set(blob.digest, blob);
    return;
  }
  known.diffId ??= blob.diffId;
}

/** readEntryBytes reads a small entry (metadata), refusing one too large to be metadata. */
export async function readEntryBytes(archive: IndexedArchive, entry: TarEntry): Promise<Buffer> {
  if (entry.size > MAX_METADATA_BYTES) {
    throw new IntegrityError(
      'ARCHIVE_ENTRY_TOO_LARGE',
      `${archive.what}: "${entry.path}" is ${entry.size} bytes, too large for image metadata`,
      { hint: 'the archive is damaged or not an image archive' },
    );
  }
  return archive.bytes(entry);
}

/** readJsonFile reads and parses a JSON file of the archive by path, following links. */
export async function readJsonFile(
  archive: IndexedArchive,
  path: string,
): Promise<{ bytes: Buffer; value: unknown }> {
  const bytes = await readEntryBytes(archive, findEntry(archive.entries, path, archive.what));
  try {
    return { bytes, value: JSON.parse(bytes.toString('utf8')) };
  } catch (error) {
    throw new IntegrityError('ARCHIVE_JSON_INVALID', `${archive.what}: ${path} is not valid JSON`, {
      cause: error,
      hint: 'the archive is damaged; write it again',
    });
  }
}

/** invalidMetadata is the error for a metadata file whose shape is wrong. */
export function invalidMetadata(
  archive: IndexedArchive,
  path: string,
  why: string,
): IntegrityError {
  return new IntegrityError('ARCHIVE_MANIFEST_INVALID', `${archive.what}: ${path} ${why}`, {
    hint: 'the archive is damaged or was written by a broken tool',
  });
}
