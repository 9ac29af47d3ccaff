import type { Readable, Writable } from 'node:stream';

import type { OrderedSink, Store } from '../../core/store.js';

/**
 * ArchiveAccess is how the daemon store reads and writes image archives without depending on
 * the archive store: whoever opens the daemon store hands these in.
 */
export interface ArchiveAccess {
  /**
   * readArchive reads a docker or OCI archive arriving on a stream into a read-only store.
   * `location` names the archive in messages.
   */
  readArchive(stream: Readable, location: string): Promise<Store>;

  /**
   * createArchiveWriter returns a store that writes the images it is given as one uncompressed
   * tar into `sink`, ending the sink when it is closed and destroying it when aborted.
   */
  createArchiveWriter(sink: Writable, location: string): Store & OrderedSink;
}
