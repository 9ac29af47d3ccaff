/**
 * Reading archives from a stream (`load -i -`): one pass, with only what arrives before it is
 * asked for spooled, in the spool folder given.
 */
import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';

import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { IntegrityError, RegtoolError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/media-types.js';
import { parseReference } from '../../src/core/reference.js';
import { copyImages } from '../../src/copy/copy-images.js';
import { verifyStore } from '../../src/copy/verify.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { corpusDir, hasCorpus, projectRoot, tempDir } from '../helpers/cli.js';
import { blobItems, descriptorOf, makeConfig, makeTar, writeTemp } from './build.js';
import { loadInto, requestsFor, saveFrom } from './helpers.js';

const fixtures = join(projectRoot, 'fixtures/images');
const BIG = 30 << 20;
const names = ['docker.io/library/big:1.0', 'base:1.0', 'alpha:1.0', 'beta:1.0'];

/** bigImageArchive is an OCI archive of one image whose only layer is BIG random bytes. */
function bigImageArchive(): string {
  const layer = makeTar([{ path: 'big.bin', data: randomBytes(BIG) }]);
  const config = makeConfig([sha256Digest(layer)]);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: descriptorOf(config, MediaType.ociConfig),
      layers: [descriptorOf(layer, MediaType.ociLayer)],
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        ...descriptorOf(manifest, MediaType.ociManifest),
        annotations: { 'org.opencontainers.image.ref.name': names[0] },
      },
    ],
  };
  return writeTemp(
    'big.tar',
    makeTar([
      { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      { path: 'index.json', data: JSON.stringify(index) },
      ...blobItems([config, manifest, layer]),
    ]),
  );
}

/** spoolWatch measures, until stopped, the largest the spool folders under `dir` grow. */
function spoolWatch(dir: string) {
  let peak = 0;
  const sizeOf = (path: string): number =>
    statSync(path).isDirectory()
      ? readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0)
      : statSync(path).size;
  const measure = (at: string): number => {
    if (!existsSync(at)) return 0;
    let total = 0;
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      try {
        if (name.startsWith('.regtool-spool-')) total += sizeOf(path);
        else if (statSync(path).isDirectory() && at === dir) total += measure(path);
      } catch {
        // A spool file deleted while it was measured.
      }
    }
    return total;
  };
  const timer = setInterval(() => (peak = Math.max(peak, measure(dir))), 5);
  return {
    stop: () => {
      clearInterval(timer);
      return { peak, left: measure(dir) };
    },
  };
}

/** readStreamed loads every image of an archive read as a stream into a new layout. */
async function readStreamed(path: string, spoolDir = tempDir()) {
  const loaded = await loadInto(createReadStream(path), undefined, { spoolDir, jobs: 4 });
  return { ...loaded, spoolDir };
}

function imagesOf(reader: ArchiveReader) {
  return reader.images.map(({ name, descriptor }) => ({ name, digest: descriptor.digest }));
}

describe.skipIf(!existsSync(fixtures))('reading an archive from a stream', () => {
  let ours: string;
  let store: string;

  beforeAll(async () => {
    store = join(tempDir(), 'store');
    await loadInto(bigImageArchive(), store);
    const source = new LayoutStore(fixtures);
    const target = new LayoutStore(store);
    const requests = names.slice(1).map((name) => ({ source: parseReference(name) }));
    await copyImages(source, target, requests);
    await target.close();
    ours = join(tempDir(), 'ours.tar.gz');
    await saveFrom(new LayoutStore(store), names, ours);
  }, 120_000);

  it('hands the layers of a regtool archive straight over, spooling none of the large ones', async () => {
    const { reader, layout, spoolDir } = await readStreamed(ours);
    expect(reader.flavour).toBe('docker+oci');
    expect(reader.spooledBytes).toBeLessThan(BIG);
    const report = await verifyStore(layout);
    expect(report.problems).toEqual([]);
    expect(report.images).toBe(names.length);
    expect(readdirSync(spoolDir)).toEqual([]);
    const fromFile = await ArchiveReader.open(ours);
    expect(imagesOf(reader)).toEqual(imagesOf(fromFile));
    await fromFile.close();
  }, 60_000);

  it('reads a named pipe given as the archive, for load and verify', async () => {
    const root = tempDir();
    const fifo = join(root, 'archive.fifo');
    await execa('mkfifo', [fifo]);
    const env = { REGTOOL_HOME: join(root, 'home'), NO_COLOR: '1' };
    const dest = join(root, 'store');
    for (const args of [
      ['load', '-i', fifo, '--to', `dir:${dest}`],
      ['verify', `archive:${fifo}`],
    ]) {
      const writer = execa('sh', ['-c', `cat "$0" > "$1"`, ours, fifo]);
      const result = await execa('node', [join(projectRoot, 'bin/regtool'), ...args], {
        env,
        reject: false,
      });
      await writer;
      expect(result.stderr).not.toContain('INTERNAL');
      expect(result.exitCode, result.stderr).toBe(0);
    }
    expect((await verifyStore(new LayoutStore(dest))).images).toBe(names.length);
  }, 60_000);

  it('loads from a pipe with `load -i -`, its spool folder staying small', async () => {
    const root = tempDir();
    const dest = join(root, 'store');
    mkdirSync(dest);
    const watch = spoolWatch(root);
    const loaded = await execa(
      'node',
      [join(projectRoot, 'bin/regtool'), '--json', 'load', '-i', '-', '--to', `dir:${dest}`],
      { inputFile: ours, env: { REGTOOL_HOME: join(root, 'home'), NO_COLOR: '1' }, reject: false },
    );
    const { peak, left } = watch.stop();
    expect(loaded.stderr).toBe('');
    expect(loaded.exitCode).toBe(0);
    expect(JSON.parse(loaded.stdout).loaded).toHaveLength(names.length);
    expect(peak).toBeLessThan(BIG);
    expect(left).toBe(0);
    expect((await verifyStore(new LayoutStore(dest))).problems).toEqual([]);
  }, 60_000);

  it('loads a compressed archive file in one pass, spooling only in the destination', async () => {
    const skopeoOrder = join(tempDir(), 'skopeo.tar');
    const full = names[0]!;
    await execa('skopeo', [
      'copy',
      `oci:${store}:${full}`,
      `docker-archive:${skopeoOrder}:${full}`,
    ]);
    await execa('gzip', ['-1', skopeoOrder]);
    for (const [archive, spools] of [
      [ours, false],
      [`${skopeoOrder}.gz`, true],
    ] as const) {
      const root = tempDir();
      const dest = join(root, 'store');
      const tmp = tempDir();
      const watch = spoolWatch(root);
      const loaded = await execa(
        'node',
        [join(projectRoot, 'bin/regtool'), 'load', '-i', archive, '--to', `dir:${dest}`],
        { env: { REGTOOL_HOME: join(root, 'home'), TMPDIR: tmp, NO_COLOR: '1' }, reject: false },
      );
      const { peak, left } = watch.stop();
      expect(loaded.exitCode).toBe(0);
      // Layers that come before manifest.json (docker save order) wait in the destination's
      // folder; in regtool's order they go straight through.
      if (spools) expect(peak).toBeGreaterThanOrEqual(BIG);
      else expect(peak).toBeLessThan(BIG);
      expect(left).toBe(0);
      expect(readdirSync(tmp)).toEqual([]);
      expect((await verifyStore(new LayoutStore(dest))).problems).toEqual([]);
    }
  }, 60_000);

  it('passes over layers the destination has, and fails on a damaged one', async () => {
    const plain = join(tempDir(), 'ours.tar');
    await saveFrom(new LayoutStore(store), names, plain);
    const dir = join(tempDir(), 'store');
    const seeded = new LayoutStore(dir);
    await copyImages(new LayoutStore(store), seeded, [{ source: parseReference(names[0]!) }]);
    await seeded.close();
    const reader = await ArchiveReader.open(createReadStream(plain), { spoolDir: tempDir() });
    const layout = new LayoutStore(dir);
    await copyImages(reader, layout, requestsFor(reader), { jobs: 2 });
    await layout.close();
    await reader.close();
    expect((await verifyStore(new LayoutStore(dir))).images).toBe(names.length);

    const damaged = readFileSync(plain);
    damaged[damaged.length >> 1] ^= 0xff;
    const broken = await readStreamed(writeTemp('damaged.tar', damaged)).catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(IntegrityError);
  }, 60_000);

  it.each([3 << 20, 20 << 20])(
    'fails with an integrity error when cut after %i bytes',
    async (cut) => {
      const truncated = writeTemp('cut.tar.gz', readFileSync(ours).subarray(0, cut));
      const error = await readStreamed(truncated).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(IntegrityError);
    },
  );

  it('stops at once when closed before anything is asked for, leaving no spool', async () => {
    const spoolDir = tempDir();
    const reader = await ArchiveReader.open(createReadStream(ours), { spoolDir });
    expect(reader.images).toHaveLength(names.length);
    await reader.close();
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('loads a docker-archive skopeo wrote (manifest.json last) from a pipe', async () => {
    const archive = join(tempDir(), 'skopeo.tar');
    const full = names[0]!;
    await execa('skopeo', ['copy', `oci:${store}:${full}`, `docker-archive:${archive}:${full}`]);
    const listing = (await execa('tar', ['tf', archive])).stdout.split('\n');
    const layer = listing.findIndex((path) => /^[a-f0-9]{64}\.tar$/.test(path));
    expect(listing.indexOf('manifest.json')).toBeGreaterThan(layer);
    const streamed = await readStreamed(archive);
    expect(streamed.reader.spooledBytes).toBeGreaterThanOrEqual(BIG);
    expect(readdirSync(streamed.spoolDir)).toEqual([]);
    const dest = join(tempDir(), 'store');
    const loaded = await execa(
      'node',
      [join(projectRoot, 'bin/regtool'), 'load', '-i', '-', '--to', `dir:${dest}`],
      { inputFile: archive, env: { REGTOOL_HOME: join(tempDir(), 'home') }, reject: false },
    );
    expect(loaded.exitCode).toBe(0);
    const configOf = async (layout: LayoutStore) => {
      const descriptor = await layout.resolve(parseReference(full));
      const { bytes } = await layout.getManifest('', descriptor);
      return JSON.parse(Buffer.from(bytes).toString()).config.digest as string;
    };
    const loadedStore = new LayoutStore(dest);
    expect(await configOf(loadedStore)).toBe(await configOf(new LayoutStore(store)));
    expect((await verifyStore(loadedStore)).problems).toEqual([]);
  }, 60_000);
});

const corpusArchives = [
  'ggcr/hello-world-v25.tar',
  'ggcr/no_manifest.tar',
  'ggcr/overwritten_file.tar',
  'ggcr/source_image.tar',
  'ggcr/test_bundle.tar',
  'ggcr/test_image_1.tar',
  'dive/test-docker-image.tar',
  'dive/test-oci-gzip-image.tar',
  'dive/test-oci-uncompressed-image.tar',
];

describe.skipIf(!hasCorpus)('the corpus read as streams', () => {
  it.each(corpusArchives)('%s loads as it does from the file', async (name) => {
    const path = join(corpusDir, name);
    const { reader, layout, spoolDir } = await readStreamed(path);
    const fromFile = await ArchiveReader.open(path);
    expect(imagesOf(reader)).toEqual(imagesOf(fromFile));
    expect(reader.flavour).toBe(fromFile.flavour);
    await fromFile.close();
    expect((await verifyStore(layout)).problems).toEqual([]);
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it.each([
    ['ggcr/content.tar.zst', 'ARCHIVE_NOT_IMAGE'],
    ['ggcr/null_manifest.tar', 'ARCHIVE_MANIFEST_INVALID'],
  ])('%s is refused as from the file', async (name, code) => {
    const spoolDir = tempDir();
    const error = await ArchiveReader.open(createReadStream(join(corpusDir, name)), {
      spoolDir,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RegtoolError);
    expect((error as RegtoolError).code).toBe(code);
    expect(readdirSync(spoolDir)).toEqual([]);
  });
});
