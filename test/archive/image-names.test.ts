/** What an archive's names become: the report of a load must match what the store holds. */
import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { MediaType } from '../../src/core/media-types.js';
import { parseReference } from '../../src/core/reference.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import {
  blobItems,
  descriptorOf,
  makeConfig,
  makeLayer,
  makeOciManifest,
  makeTar,
  writeTemp,
} from './build.js';
import { loadInto } from './helpers.js';

/** Two different one-layer images, as docker save writes them. */
function twoImages() {
  return ['one', 'two'].map((text) => {
    const layer = makeLayer({ 'file.txt': text });
    const config = makeConfig([layer.diffId]);
    const hex = sha256Digest(config).slice(7);
    return { layer, config, hex, manifest: makeOciManifest(config, [layer.gz]) };
  });
}

function dockerArchive(repoTags: string[][]): string {
  const images = twoImages();
  const manifest = images.map(({ hex }, i) => ({
    Config: `${hex}.json`,
    RepoTags: repoTags[i],
    Layers: [`${hex}/layer.tar`],
  }));
  const items = images.flatMap(({ hex, config, layer }) => [
    { path: `${hex}.json`, data: config },
    { path: `${hex}/layer.tar`, data: layer.tar },
  ]);
  return writeTemp(
    'duptag.tar',
    makeTar([...items, { path: 'manifest.json', data: JSON.stringify(manifest) }]),
  );
}

function ociArchive(name: string): { path: string; digests: string[] } {
  const images = twoImages();
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map(({ manifest }) => ({
      ...descriptorOf(manifest, MediaType.ociManifest),
      annotations: { 'org.opencontainers.image.ref.name': name },
    })),
  };
  const blobs = images.flatMap(({ config, layer, manifest }) => [config, layer.gz, manifest]);
  const tar = makeTar([
    { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { path: 'index.json', data: JSON.stringify(index) },
    ...blobItems(blobs),
  ]);
  return {
    path: writeTemp('duptag-oci.tar', tar),
    digests: images.map(({ manifest }) => sha256Digest(manifest)),
  };
}

async function namesIn(dir: string) {
  const { LayoutStore } = await import('../../src/stores/layout/layout-store.js');
  const store = new LayoutStore(dir);
  const names: Record<string, string> = {};
  for await (const image of store.listImages()) names[image.name ?? ''] = image.descriptor.digest;
  return names;
}

async function readerOf(path: string) {
  const warnings: string[] = [];
  const reader = await ArchiveReader.open(path, {
    logger: { debug() {}, warn: (message) => warnings.push(message) },
  });
  return { reader, warnings };
}

describe('a name two images of an archive have', () => {
  it('goes to the last in manifest.json; the earlier one is kept unnamed', async () => {
    const path = dockerArchive([['same:1'], ['same:1']]);
    const { reader, warnings } = await readerOf(path);
    const [first, last] = reader.images;
    await reader.close();
    expect(reader.images).toHaveLength(2);
    expect(first?.name).toBeUndefined();
    expect(last).toMatchObject({ name: 'same:1' });
    expect(warnings.join('\n')).toContain('"same:1" names both');

    const { dir } = await loadInto(path);
    const names = await namesIn(dir);
    expect(names['docker.io/library/same:1']).toBe(last!.descriptor.digest);
  });

  it('keeps the earlier image under its other names', async () => {
    const { reader } = await readerOf(dockerArchive([['keep:1', 'same:1'], ['same:1']]));
    await reader.close();
    expect(reader.images.map((image) => image.name)).toEqual(['keep:1', 'same:1']);
  });

  it('goes to the last entry of index.json too', async () => {
    const { path, digests } = ociArchive('docker.io/library/same:1');
    const { reader } = await readerOf(path);
    await reader.close();
    expect(reader.images.map(({ name, descriptor }) => [name, descriptor.digest])).toEqual([
      [undefined, digests[0]],
      ['docker.io/library/same:1', digests[1]],
    ]);
    const resolved = await reader.resolve(parseReference('same:1'));
    expect(resolved.digest).toBe(digests[1]);
  });
});

describe('a name that is not an image name', () => {
  it('is reported, and the image loads unnamed', async () => {
    const { reader, warnings } = await readerOf(dockerArchive([['UPPER/Case:!!'], ['ok:1']]));
    await reader.close();
    expect(warnings.join('\n')).toContain('"UPPER/Case:!!"');
    expect(reader.images[0]?.reference).toBeUndefined();
  });
});
