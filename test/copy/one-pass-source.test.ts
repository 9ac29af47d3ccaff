/**
 * Copies from an archive read in one pass (`load -i -`, or a compressed file): a large layer
 * goes straight from the stream to the destination while the copy is still asking the
 * destination what it has; a layer the destination has is passed over, not spooled; and a
 * second repository that cannot mount a layer gets it from the first, not from the stream.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import type { Descriptor } from '../../src/core/schemas.js';
import type { Store } from '../../src/core/store.js';
import { copyImages } from '../../src/copy/copy-images.js';
import { verifyStore } from '../../src/copy/verify.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { RegistryStore } from '../../src/stores/registry/registry-store.js';
import { makeTar, metadataFirstArchive, writeTemp } from '../archive/build.js';
import { loadInto, requestsFor, saveFrom } from '../archive/helpers.js';
import { projectRoot, tempDir } from '../helpers/cli.js';
import { startFakeRegistry, type FakeRegistry } from '../registry/fake-registry.js';

/** Large enough that the stream never keeps it in memory. */
const SIZE = 4 << 20;

function layer(): Buffer {
  return makeTar([{ path: 'data.bin', data: randomBytes(SIZE) }]);
}

/** archiveOf writes an archive of images (name and layers) as regtool saves it. */
async function archiveOf(images: Array<[string, Buffer[]]>): Promise<string> {
  const dir = join(tempDir(), 'store');
  for (const [name, layers] of images)
    await loadInto(writeTemp('image.tar', metadataFirstArchive(name, layers)), dir);
  const path = join(tempDir(), 'saved.tar');
  await saveFrom(
    new LayoutStore(dir),
    images.map(([name]) => name),
    path,
  );
  return path;
}

/** streamed opens an archive file as a stream, as `load -i -` does. */
function streamed(path: string) {
  return ArchiveReader.open(createReadStream(path), { spoolDir: tempDir(), readers: 4 });
}

/**
 * slowToAnswer is a store that takes `ms` the first time it is asked whether it has one blob,
 * as a far registry does.
 */
function slowToAnswer(store: LayoutStore, digest: string, ms: number): Store {
  const hasBlob = store.hasBlob.bind(store);
  let asked = false;
  return Object.assign(Object.create(store) as LayoutStore, {
    hasBlob: async (repository: string, descriptor: Descriptor) => {
      if (descriptor.digest === digest && !asked) {
        asked = true;
        await sleep(ms);
      }
      return hasBlob(repository, descriptor);
    },
  });
}

async function copyAll(reader: ArchiveReader, destination: Store): Promise<void> {
  try {
    await copyImages(reader, destination, requestsFor(reader), { jobs: 4 });
    await reader.finish();
  } finally {
    await reader.close();
  }
}

describe('a copy from an archive read in one pass', () => {
  it('waits for the reader of a layer still asking the destination, rather than spooling it', async () => {
    const first = layer();
    const archive = await archiveOf([['slow:1', [first, layer()]]]);
    const dir = join(tempDir(), 'store');
    const layout = new LayoutStore(dir);
    const reader = await streamed(archive);
    await copyAll(reader, slowToAnswer(layout, sha256Digest(first), 300));
    await layout.close();
    expect(reader.spooledBytes).toBeLessThan(SIZE);
    expect((await verifyStore(new LayoutStore(dir))).problems).toEqual([]);
  });

  it('passes over a layer the destination has, rather than spooling it', async () => {
    const had = layer();
    const archive = await archiveOf([['both:1', [had, layer()]]]);
    const { dir } = await loadInto(writeTemp('had.tar', metadataFirstArchive('had:1', [had])));
    const layout = new LayoutStore(dir);
    const reader = await streamed(archive);
    await copyAll(reader, layout);
    await layout.close();
    expect(reader.spooledBytes).toBeLessThan(SIZE);
    const report = await verifyStore(new LayoutStore(dir));
    expect(report.problems).toEqual([]);
    expect(report.images).toBe(2);
  });

  // The copy asks for the second layer while the first one's reader is still held up: with
  // every blob read at once waiting (one here), or after a second with nothing happening, the
  // first goes to a spool file, so that the stream moves on.
  for (const { readers, delay, why } of [
    { readers: 1, delay: 600, why: 'every blob read at once waits for a later entry' },
    { readers: undefined, delay: 3_000, why: 'nothing has happened for a while' },
  ]) {
    it(`spools a layer whose reader is held up when ${why}`, async () => {
      const early = layer();
      const archive = await archiveOf([['held:1', [early, layer()]]]);
      const dir = join(tempDir(), 'store');
      const layout = new LayoutStore(dir);
      const reader = await ArchiveReader.open(createReadStream(archive), {
        spoolDir: tempDir(),
        readers,
      });
      await copyAll(reader, slowToAnswer(layout, sha256Digest(early), delay));
      await layout.close();
      expect(reader.spooledBytes).toBeGreaterThanOrEqual(SIZE);
      expect((await verifyStore(new LayoutStore(dir))).problems).toEqual([]);
    });
  }
});

describe('a registry that does not mount, loaded from a stream', () => {
  let fake: FakeRegistry;

  beforeEach(async () => {
    fake = await startFakeRegistry();
    // Like a registry without cross-repository mounts: each repository holds only the blobs
    // uploaded to it, and a mount request just opens an upload.
    const held = new Set<string>();
    fake.quirks.push((request, response) => {
      const url = new URL(request.url!, 'http://fake');
      const put = /^\/v2\/(.+)\/blobs\/uploads\/\d+$/.exec(url.pathname);
      if (put && request.method === 'PUT') {
        held.add(`${put[1]} ${url.searchParams.get('digest')}`);
        return false;
      }
      const blob = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]+)$/.exec(url.pathname);
      if (blob && !held.has(`${blob[1]} ${blob[2]}`)) {
        response.writeHead(404).end();
        return true;
      }
      return false;
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('gives a second repository a shared layer from the first one', async () => {
    const shared = layer();
    const archive = await archiveOf([
      ['one:1', [shared, layer()]],
      ['two:1', [shared, layer()]],
    ]);
    const registry = await RegistryStore.open({ host: fake.host, prefix: 'loaded' }, {});
    const reader = await streamed(archive);
    await copyAll(reader, registry);
    await registry.close();
    const digest = sha256Digest(shared);
    const uploads = fake.log.filter(
      ({ line }) => line.startsWith('PUT') && line.includes(digest.slice(7)),
    );
    expect(uploads).toHaveLength(2);
    const reads = fake.log.filter(
      ({ line }) => line === `GET /v2/loaded/library/one/blobs/${digest}`,
    );
    expect(reads).toHaveLength(1);
  });
});

describe('a copy of some of the images of a stream', () => {
  it('passes over the layers of the images it does not copy, rather than spooling them', async () => {
    const archive = await archiveOf([
      ['first:1', [layer()]],
      ['second:1', [layer()]],
      ['third:1', [layer()]],
    ]);
    const dir = join(tempDir(), 'store');
    const layout = new LayoutStore(dir);
    const reader = await streamed(archive);
    const wanted = requestsFor(reader).filter(({ source }) => source.repository.endsWith('third'));
    try {
      await copyImages(reader, layout, wanted, { jobs: 4 });
      await reader.finish();
    } finally {
      await reader.close();
    }
    await layout.close();
    expect(reader.spooledBytes).toBeLessThan(SIZE);
    expect((await verifyStore(new LayoutStore(dir))).images).toBe(1);
  });
});

describe('a stream found damaged after its layers', () => {
  let fake: FakeRegistry;

  beforeEach(async () => {
    fake = await startFakeRegistry();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('names nothing in a registry', async () => {
    const path = writeTemp(
      'tail.tar',
      metadataFirstArchive('tail:1', [layer()], { tail: [{ path: '../outside', data: 'x' }] }),
    );
    const registry = await RegistryStore.open({ host: fake.host, prefix: 'loaded' }, {});
    const reader = await streamed(path);
    await expect(copyAll(reader, registry)).rejects.toMatchObject({ code: 'ARCHIVE_UNSAFE_PATH' });
    await registry.close();
    expect(fake.blobs.size).toBeGreaterThan(0);
    expect(fake.manifests.size).toBe(0);
  });
});

describe('a compressed stream cut off in its first layer', () => {
  it('fails with ARCHIVE_TRUNCATED (exit 5) and leaves nothing', async () => {
    const plain = await archiveOf([['cut:1', [layer()]]]);
    const gzipped = `${plain}.gz`;
    await execa('gzip', ['-1', '-k', plain]);
    const root = tempDir();
    for (const length of [3_000, 20_000, 500_000]) {
      const dest = join(root, `store-${length}`);
      const result = await execa(
        'node',
        [join(projectRoot, 'bin/regtool'), 'load', '-i', '-', '--to', `dir:${dest}`],
        {
          input: readFileSync(gzipped).subarray(0, length),
          reject: false,
          env: { NO_COLOR: '1', REGTOOL_HOME: join(root, 'home') },
        },
      );
      expect(result.stderr).toContain('error[ARCHIVE_TRUNCATED]');
      expect(result.stderr).not.toContain('Unhandled');
      expect(result.exitCode).toBe(5);
      expect(existsSync(dest)).toBe(false);
    }
  });
});
