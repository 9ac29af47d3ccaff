/**
 * Run as a child process by big-blob.test.ts: streams a generated blob of SIZE bytes into
 * s3://BUCKET/PREFIX through the S3 store and prints its digest, the time taken, and this
 * process's resident memory before the upload and at its peak during it, as JSON on stdout.
 *
 *   vite-node big-blob-main.ts ENDPOINT BUCKET PREFIX SIZE
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';

import { openStore } from '../../src/stores/open-store.js';

const [endpoint, bucket, prefix, sizeText] = process.argv.slice(2);
const size = Number(sizeText);
const BLOCK = 1 << 20;
const block = randomBytes(BLOCK);

/** Numbered copies of one random block: nothing the server could deduplicate, nothing held. */
function* content(): Generator<Buffer> {
  for (let offset = 0, i = 0; offset < size; offset += BLOCK, i += 1) {
    const chunk = Buffer.from(block.subarray(0, Math.min(BLOCK, size - offset)));
    chunk.writeUInt32BE(i, 0);
    yield chunk;
  }
}

/** The kernel's record of this process's peak resident set, in bytes. */
function peakRss(): number {
  const line = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(line?.[1] ?? 0) * 1024;
}

const hash = createHash('sha256');
const scratch = Buffer.from(block);
for (let offset = 0, i = 0; offset < size; offset += BLOCK, i += 1) {
  scratch.writeUInt32BE(i, 0);
  hash.update(scratch.subarray(0, Math.min(BLOCK, size - offset)));
}
const digest = `sha256:${hash.digest('hex')}`;
const descriptor = { mediaType: 'application/octet-stream', digest, size };

const store = await openStore(
  { kind: 's3', bucket: bucket!, prefix: prefix! },
  { mode: 'write', s3: { endpoint } },
);
// Reset the kernel's peak-RSS record, so that only the upload is measured.
writeFileSync('/proc/self/clear_refs', '5');
const before = process.memoryUsage().rss;
const started = performance.now();
await store.putBlob('big/blob', descriptor, Readable.from(content()));
const seconds = (performance.now() - started) / 1000;
const stored = await store.hasBlob('big/blob', descriptor);
await store.close();
process.stdout.write(
  `${JSON.stringify({ digest, seconds, before, peakRss: peakRss(), stored })}\n`,
);
