import type { CopySummary } from '../copy/copy-images.js';
import { formatBytes } from './progress.js';

/**
 * renderSummary writes what a copy did in one or two lines; `destination` (the target store's
 * location) is named beside each image.
 */
export function renderSummary(summary: CopySummary, destination?: string): string {
  const where = destination === undefined ? '' : ` (${destination})`;
  const lines = summary.images.map(
    (image) =>
      `${image.upToDate ? 'up to date' : 'copied'} ${image.target} ${image.digest}${where}`,
  );
  lines.push(
    `${summary.blobsMoved} blobs moved (${formatBytes(summary.bytesMoved)}), ` +
      `${summary.blobsSkipped} already there (${formatBytes(summary.bytesSkipped)})`,
  );
  return lines.join('\n');
}
