import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrateStores } from '../../src/copy/migrate.js';
import { sha256Digest } from '../../src/core/digest.js';
import { MediaType } from '../../src/core/media-types.js';
import { parseReference } from '../../src/core/reference.js';
import type { Descriptor } from '../../src/core/schemas.js';
import { isReferrerLister, type Store } from '../../src/core/store.js';
import { openStore } from '../../src/stores/open-store.js';
import { fixtureImages, serveRegistry, type ServedRegistry } from '../s3/s3-helpers.js';

function content(text: string, mediaType: string) {
  const bytes = Buffer.from(text);
  return { bytes, descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length } };
}

/** attachSignature stores an artifact whose subject is the image, as signing tools do. */
async function attachSignature(store: Store, name: string): Promise<string> {
  const reference = store.locate(parseReference(name));
  const subject = await store.resolve(reference);
  const config = content('{}', MediaType.ociEmpty);
  const layer = content('signed in a test', 'application/vnd.example.signature');
  for (const { bytes, descriptor } of [config, layer]) {
    await store.putBlob(reference.repository, descriptor, Readable.from([bytes]));
  }
  const manifest = content(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: 'application/vnd.example.signature',
      config: config.descriptor,
      layers: [layer.descriptor],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    }),
    MediaType.ociManifest,
  );
  await store.putManifest(reference.repository, manifest.descriptor, manifest.bytes);
  return manifest.descriptor.digest;
}

async function referrersOf(store: Store, name: string): Promise<Descriptor[]> {
  const reference = store.locate(parseReference(name));
  const subject = await store.resolve(reference);
  if (!isReferrerLister(store)) throw new Error(`${store.location} cannot list referrers`);
  return store.referrers(reference.repository, subject.digest);
}

describe('migrate between registries', () => {
  const registries: ServedRegistry[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 2; i += 1) {
      const root = await mkdtemp(join(tmpdir(), 'regtool-referrers-'));
      registries.push(await serveRegistry(['filesystem:', `  rootdirectory: ${root}`]));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(registries.map((registry) => registry.stop()));
  });

  it("takes each image's referrers along", async () => {
    const [first, second] = registries.map((r) => ({
      kind: 'registry' as const,
      host: r.host,
      prefix: '',
    }));
    const seed = await openStore(first!, { mode: 'write' });
    await migrateStores(
      await openStore({ kind: 'dir', path: fixtureImages }, { mode: 'read' }),
      seed,
      {
        include: ['alpha:*'],
      },
    );
    const signature = await attachSignature(seed, 'alpha:1.0');
    await seed.close();

    const source = await openStore(first!, { mode: 'read' });
    const destination = await openStore(second!, { mode: 'write' });
    // The registry's sha256-<hex> fallback tag is left out: the referrers come by themselves.
    const summary = await migrateStores(source, destination, { exclude: ['*/*:sha256-*'] });
    expect(summary.counts.excluded).toBe(1);
    await destination.close();
    expect(summary.counts.failed).toBe(0);
    const check = await openStore(second!, { mode: 'read' });
    const copied = await referrersOf(check, 'alpha:1.0');
    await check.close();
    expect(copied.map((d) => d.digest)).toContain(signature);
  }, 60_000);
});
