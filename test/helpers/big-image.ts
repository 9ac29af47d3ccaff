import { createReadStream, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { sha256Digest } from '../../src/core/digest.js';
import { MediaType } from '../../src/core/media-types.js';
import { parseReference } from '../../src/core/reference.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { tempDir } from './cli.js';

/** bigImageLayout writes a layout holding `big:1`, one random layer of `megabytes` MB. */
export async function bigImageLayout(megabytes: number): Promise<string> {
  const dir = join(tempDir(), 'big');
  const file = join(tempDir(), 'layer.bin');
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  for (let i = 0; i < megabytes; i += 1) {
    // Random throughout, so that no compressor finds repeats to make it quick.
    const part = randomBytes(1 << 20);
    hash.update(part);
    parts.push(part);
  }
  writeFileSync(file, Buffer.concat(parts));
  const layer = {
    mediaType: MediaType.ociLayer,
    digest: `sha256:${hash.digest('hex')}`,
    size: megabytes << 20,
  };
  const config = Buffer.from(
    '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
  );
  const configDescriptor = {
    mediaType: MediaType.ociConfig,
    digest: sha256Digest(config),
    size: config.length,
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDescriptor,
      layers: [layer],
    }),
  );
  const manifestDescriptor = {
    mediaType: MediaType.ociManifest,
    digest: sha256Digest(manifest),
    size: manifest.length,
  };
  const store = new LayoutStore(dir);
  await store.putBlob('', layer, createReadStream(file));
  await store.putBlob('', configDescriptor, Readable.from([config]));
  await store.putManifest('', manifestDescriptor, manifest);
  await store.tag(parseReference('big:1'), manifestDescriptor);
  await store.close();
  return dir;
}
