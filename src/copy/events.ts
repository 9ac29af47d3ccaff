import type { Reference } from '../core/reference.js';
import type { Descriptor } from '../core/schemas.js';

/** What the copy engine reports as it works; the CLI renders these, the library never prints. */
export type CopyEvent =
  | { type: 'image-start'; source: Reference; target: Reference }
  | {
      type: 'image-done';
      source: Reference;
      target: Reference;
      descriptor: Descriptor;
      upToDate: boolean;
    }
  | { type: 'blob-skip'; descriptor: Descriptor; reason: 'exists' | 'mounted' | 'duplicate' }
  | { type: 'blob-start'; descriptor: Descriptor }
  | { type: 'blob-progress'; descriptor: Descriptor; bytes: number }
  | { type: 'blob-done'; descriptor: Descriptor; bytes: number }
  | { type: 'manifest'; descriptor: Descriptor; target: Reference }
  | { type: 'warning'; message: string };

export type EventSink = (event: CopyEvent) => void;
