import type { Readable, Writable } from 'node:stream';

import { ArchiveReader } from './archive/archive-reader.js';
import { ArchiveWriter } from './archive/archive-writer.js';
import type { ArchiveAccess } from './daemon/archive-access.js';

/**
 * daemonArchives gives the daemon store the archive reader it reads `docker save` answers
 * with, and the writer whose plain tar it streams into `docker load`.
 */
export function daemonArchives(env: NodeJS.ProcessEnv): ArchiveAccess {
  return {
    readArchive: (stream: Readable) =>
      ArchiveReader.open(stream, { env, what: 'the archive the daemon saved' }),
    createArchiveWriter: (sink: Writable) => ArchiveWriter.toStream(sink, { compression: 'none' }),
  };
}
