/** An image archive tarred with the folder that holds it (`tar -cf x.tar myimg`) loads. */
import { createReadStream } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { MediaType } from '../../src/core/media-types.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import {
  blobItems,
  descriptorOf,
  makeConfig,
  makeLayer,
  makeOciManifest,
  makeTar,
  writeTemp,
  type TarItem,
} from './build.js';
import { loadInto } from './helpers.js';

/** An OCI layout of one named image, as the items of a tar. */
function layoutItems(): { items: TarItem[]; digest: string } {
  const layer = makeLayer({ 'hello.txt': 'hello' });
  const config = makeConfig([layer.diffId]);
  const manifest = makeOciManifest(config, [layer.gz]);
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      {
        ...descriptorOf(manifest, MediaType.ociManifest),
        annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/myimg:1' },
      },
    ],
  };
  const items: TarItem[] = [
    { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { path: 'index.json', data: JSON.stringify(index) },
    ...blobItems([config, layer.gz, manifest]),
  ];
  return { items, digest: descriptorOf(manifest, MediaType.ociManifest).digest };
}

function underFolder(items: TarItem[], folder: string): TarItem[] {
  return [
    { path: `${folder}/`, type: 'Directory' },
    ...items.map((item) => ({ ...item, path: `${folder}/${item.path}` })),
  ];
}

describe('an image archive inside one folder', () => {
  it('loads an OCI layout tarred with its folder, from a file and a stream', async () => {
    const { items, digest } = layoutItems();
    const path = writeTemp('prefixed.tar', makeTar(underFolder(items, 'myimg')));
    const loaded = await loadInto(path);
    expect(loaded.flavour).toBe('oci');
    expect(loaded.images.map(({ name, descriptor }) => [name, descriptor.digest])).toEqual([
      ['docker.io/library/myimg:1', digest],
    ]);
    const streamed = await ArchiveReader.open(createReadStream(path));
    await streamed.close();
    expect(streamed.images.map(({ descriptor }) => descriptor.digest)).toEqual([digest]);
  });

  it('loads a docker save archive tarred with its folder', async () => {
    const layer = makeLayer({ 'hello.txt': 'hello' });
    const config = makeConfig([layer.diffId]);
    const manifest = [{ Config: 'config.json', RepoTags: ['saved:1'], Layers: ['l/hard.tar'] }];
    const items: TarItem[] = [
      { path: 'config.json', data: config },
      { path: 'l/layer.tar', data: layer.tar },
      { path: 'l/hard.tar', type: 'Link', linkpath: 'saved/l/layer.tar' },
      { path: 'manifest.json', data: JSON.stringify(manifest) },
    ];
    const loaded = await loadInto(writeTemp('saved.tar', makeTar(underFolder(items, 'saved'))));
    expect(loaded.flavour).toBe('docker');
    expect(loaded.images.map(({ name }) => name)).toEqual(['saved:1']);
  });

  it('still refuses a folder of ordinary files', async () => {
    const path = writeTemp(
      'files.tar',
      makeTar(underFolder([{ path: 'readme.txt', data: 'hi' }], 'docs')),
    );
    await expect(ArchiveReader.open(path)).rejects.toMatchObject({ code: 'ARCHIVE_NOT_IMAGE' });
  });
});
