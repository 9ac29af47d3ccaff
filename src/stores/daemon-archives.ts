import { UnsupportedError } from '../core/errors.js';
import type { ArchiveAccess } from './daemon/archive-access.js';

function archivesMissing(): never {
  // TODO(#3): read and write through the archive store once it reads streams and writes tars.
  throw new UnsupportedError(
    'DAEMON_ARCHIVES_UNSUPPORTED',
    'saving from and loading into the daemon is not supported yet',
    { hint: "list the daemon's images with regtool ls docker-daemon:" },
  );
}

/** daemonArchives gives the daemon store the archive reader and writer it saves and loads with. */
export const daemonArchives: ArchiveAccess = {
  readArchive: async () => archivesMissing(),
  createArchiveWriter: () => archivesMissing(),
};
