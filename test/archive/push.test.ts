import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { copyImages } from '../../src/copy/copy-images.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import { openStore } from '../../src/stores/open-store.js';
import { startRegistry } from '../peers/index.js';
import { makeConfig, makeLayer, makeTar, writeTemp } from './build.js';
import { requestsFor } from './helpers.js';

const empty = makeLayer({});
const a = makeLayer({ 'a.txt': 'a' });
const plain = makeLayer({ 'p.txt': 'plain' });

/** pushArchive copies every image of an archive to a fresh repository of a real registry. */
async function pushArchive(tar: Buffer, prefix: string) {
  const registry = await startRegistry();
  const reader = await ArchiveReader.open(writeTemp('push.tar', tar));
  const destination = await openStore(
    { kind: 'registry', host: registry.url, prefix },
    { mode: 'write' },
  );
  try {
    const summary = await copyImages(reader, destination, requestsFor(reader));
    await destination.close();
    return { summary, registry };
  } finally {
    await reader.close();
  }
}

async function pushedManifest(reference: string) {
  const { stdout } = await execa('skopeo', ['inspect', '--tls-verify=false', '--raw', reference]);
  return JSON.parse(stdout);
}

describe('pushing what an archive holds to a real registry', () => {
  it('A1: uploads the repeated layer once and keeps three layers in the manifest', async () => {
    const tar = makeTar([
      {
        path: 'manifest.json',
        data: JSON.stringify([
          {
            Config: 'c.json',
            RepoTags: ['rep:1'],
            Layers: ['z/layer.tar', 'a/layer.tar', 'z/layer.tar'],
          },
        ]),
      },
      { path: 'c.json', data: makeConfig([empty.diffId, a.diffId, empty.diffId]) },
      { path: 'z/layer.tar', data: empty.tar },
      { path: 'a/layer.tar', data: a.tar },
    ]);
    const { summary, registry } = await pushArchive(tar, 'a1');
    expect(summary.blobsMoved).toBe(3);
    const manifest = await pushedManifest(`docker://${registry.url}/a1/library/rep:1`);
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual([
      empty.diffId,
      a.diffId,
      empty.diffId,
    ]);
  });

  it('A5: pushes crane-style layers with the digest, size and media type of their bytes', async () => {
    const config = makeConfig([a.diffId, plain.diffId]);
    const tar = makeTar([
      {
        path: 'manifest.json',
        data: JSON.stringify([
          { Config: 'sha256:c', RepoTags: ['crane:1'], Layers: ['g.tar.gz', 'p.tar'] },
        ]),
      },
      { path: 'sha256:c', data: config },
      { path: 'g.tar.gz', data: a.gz },
      { path: 'p.tar', data: plain.tar },
    ]);
    const { registry } = await pushArchive(tar, 'a5');
    const manifest = await pushedManifest(`docker://${registry.url}/a5/library/crane:1`);
    expect(manifest.layers).toEqual([
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: a.gzDigest,
        size: a.gz.length,
      },
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: plain.diffId,
        size: plain.tar.length,
      },
    ]);
  });
});
