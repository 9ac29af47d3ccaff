import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { IntegrityError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/media-types.js';
import { parseReference } from '../../src/core/reference.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { tempDir } from '../helpers/cli.js';

function blob(text: string) {
  const bytes = Buffer.from(text);
  return {
    bytes,
    descriptor: { mediaType: MediaType.ociLayer, digest: sha256Digest(bytes), size: bytes.length },
  };
}

function manifestFor(layer: ReturnType<typeof blob>, config: ReturnType<typeof blob>) {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { ...config.descriptor, mediaType: MediaType.ociConfig },
      layers: [layer.descriptor],
    }),
  );
  return {
    bytes,
    descriptor: {
      mediaType: MediaType.ociManifest,
      digest: sha256Digest(bytes),
      size: bytes.length,
    },
  };
}

async function writeImage(store: LayoutStore, name: string, text: string) {
  const layer = blob(text);
  const config = blob(`{"rootfs":{"type":"layers","diff_ids":[]},"text":"${text}"}`);
  const manifest = manifestFor(layer, config);
  await store.putBlob('', layer.descriptor, Readable.from([layer.bytes]));
  await store.putBlob('', config.descriptor, Readable.from([config.bytes]));
  await store.putManifest('', manifest.descriptor, manifest.bytes);
  await store.tag(parseReference(name), manifest.descriptor);
  return manifest.descriptor;
}

describe('LayoutStore', () => {
  it('writes a valid layout and finds images by full and short name', async () => {
    const dir = join(tempDir(), 'layout');
    const store = new LayoutStore(dir);
    const descriptor = await writeImage(store, 'busybox:1', 'one');
    await store.close();
    expect(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const reader = new LayoutStore(dir);
    expect((await reader.resolve(parseReference('busybox:1'))).digest).toBe(descriptor.digest);
    expect((await reader.resolve(parseReference('docker.io/library/busybox:1'))).digest).toBe(
      descriptor.digest,
    );
  });

  it('refuses a blob whose bytes disagree with its digest and leaves nothing behind', async () => {
    const dir = join(tempDir(), 'layout');
    const store = new LayoutStore(dir);
    const good = blob('good');
    await expect(
      store.putBlob('', good.descriptor, Readable.from([Buffer.from('evil')])),
    ).rejects.toBeInstanceOf(IntegrityError);
    expect(await store.hasBlob('', good.descriptor)).toBe(false);
    expect(readdirSync(join(dir, '.regtool-tmp'))).toEqual([]);
    await store.abort();
    expect(existsSync(dir)).toBe(false);
  });

  it('keeps what two writers add at once', async () => {
    const dir = join(tempDir(), 'layout');
    const writers = Array.from({ length: 6 }, () => new LayoutStore(dir));
    await Promise.all(
      writers.map((store, i) => writeImage(store, `image${i}:latest`, `content ${i}`)),
    );
    await Promise.all(writers.map((store) => store.close()));
    const names = [];
    for await (const entry of new LayoutStore(dir).listImages()) names.push(entry.name);
    expect(names.sort()).toEqual(
      Array.from({ length: 6 }, (_, i) => `docker.io/library/image${i}:latest`),
    );
  });

  it('abort removes the blobs it wrote into an existing layout', async () => {
    const dir = join(tempDir(), 'layout');
    const first = new LayoutStore(dir);
    await writeImage(first, 'kept:1', 'kept');
    await first.close();
    const second = new LayoutStore(dir);
    const layer = blob('dropped');
    await second.putBlob('', layer.descriptor, Readable.from([layer.bytes]));
    await second.abort();
    expect(await new LayoutStore(dir).hasBlob('', layer.descriptor)).toBe(false);
    expect((await new LayoutStore(dir).resolve(parseReference('kept:1'))).mediaType).toBe(
      MediaType.ociManifest,
    );
  });
});
