import type { Logger } from '../../core/logger.js';
import type { Store } from '../../core/store.js';
import { ArchiveReader } from './archive-reader.js';
import { ArchiveWriter } from './archive-writer.js';

/**
 * openArchiveStore opens an archive file: for reading, any flavour of image archive; for
 * writing, a new archive (compressed as its name says) that replaces the file on close.
 */
export function openArchiveStore(
  path: string,
  mode: 'read' | 'write',
  env: NodeJS.ProcessEnv,
  logger?: Logger,
): Promise<Store> {
  if (mode === 'read') return ArchiveReader.open(path, { env, logger });
  return ArchiveWriter.toFile(path, {});
}
