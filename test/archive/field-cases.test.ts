import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { IntegrityError, RegtoolError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/media-types.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import { runRegtool, tempDir } from '../helpers/cli.js';
import {
  blobItems,
  descriptorOf,
  makeConfig,
  makeLayer,
  makeOciManifest,
  makeTar,
  twoImageDockerArchive,
  writeTemp,
} from './build.js';
import { blobCount, loadInto, manifestOf, saveFrom, tarList } from './helpers.js';

const empty = makeLayer({});
const a = makeLayer({ 'a.txt': 'a' });

async function failure(work: Promise<unknown>): Promise<RegtoolError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RegtoolError);
  return error as RegtoolError;
}

describe('A1: a layer listed twice in one image', () => {
  const config = makeConfig([empty.diffId, a.diffId, empty.diffId]);
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
    { path: 'c.json', data: config },
    { path: 'z/layer.tar', data: empty.tar },
    { path: 'a/layer.tar', data: a.tar },
  ]);

  it('loads, keeps three layers, and saves the repeated layer once', async () => {
    const { layout, images } = await loadInto(writeTemp('a1.tar', tar));
    const parsed = await manifestOf(layout, images[0]!.descriptor);
    expect(parsed.kind === 'image' && parsed.manifest.layers.map((l) => l.digest)).toEqual([
      empty.diffId,
      a.diffId,
      empty.diffId,
    ]);
    const out = join(tempDir(), 'again.tar');
    await saveFrom(layout, ['rep:1'], out);
    const entries = await tarList(out);
    expect(entries.filter((e) => e.endsWith(empty.diffId.slice(7)))).toHaveLength(1);
    const manifestJson = JSON.parse((await execa('tar', ['xOf', out, 'manifest.json'])).stdout);
    expect(manifestJson[0].Layers).toHaveLength(3);
  });
});

describe('A2: layer.tar that is a link', () => {
  const config = makeConfig([a.diffId, empty.diffId]);
  const archive = (links: Parameters<typeof makeTar>[0]) =>
    makeTar([
      {
        path: 'manifest.json',
        data: JSON.stringify([
          { Config: 'c.json', RepoTags: ['links:1'], Layers: ['one/layer.tar', 'two/layer.tar'] },
        ]),
      },
      { path: 'c.json', data: config },
      ...links,
    ]);

  it('follows symlinks relative to their folder, even before their target, and hardlinks', async () => {
    const tar = archive([
      { path: 'one/layer.tar', type: 'SymbolicLink', linkpath: `../${a.diffId.slice(7)}.tar` },
      { path: 'two/layer.tar', type: 'Link', linkpath: 'three/layer.tar' },
      { path: `${a.diffId.slice(7)}.tar`, data: a.tar },
      { path: 'three/layer.tar', data: empty.tar },
    ]);
    const { dir } = await loadInto(writeTemp('a2.tar', tar));
    expect(blobCount(dir)).toBe(4);
  });

  it('refuses a link that leaves the archive', async () => {
    const tar = archive([
      { path: 'one/layer.tar', type: 'SymbolicLink', linkpath: '../../etc/passwd' },
      { path: 'two/layer.tar', data: empty.tar },
    ]);
    const error = await failure(ArchiveReader.open(writeTemp('a2-out.tar', tar)));
    expect(error.code).toBe('ARCHIVE_UNSAFE_PATH');
    expect(error.exitCode).toBe(5);
  });

  it('refuses a loop of links', async () => {
    const tar = archive([
      { path: 'one/layer.tar', type: 'SymbolicLink', linkpath: '../two/layer.tar' },
      { path: 'two/layer.tar', type: 'SymbolicLink', linkpath: '../one/layer.tar' },
    ]);
    const error = await failure(ArchiveReader.open(writeTemp('a2-loop.tar', tar)));
    expect(error.code).toBe('ARCHIVE_LINK_LOOP');
  });
});

describe('A3: manifest.json with no tags', () => {
  const configOf = (arch: string) => makeConfig([a.diffId], arch);
  const entries = [
    { Config: 'c1.json', RepoTags: [], Layers: ['a/layer.tar'] },
    { Config: 'c2.json', RepoTags: null, Layers: ['a/layer.tar'] },
    { Config: 'c3.json', Layers: ['a/layer.tar'] },
    { Config: 'c4.json', RepoTags: ['named:1'], Layers: ['a/layer.tar'] },
  ];
  const tar = makeTar([
    { path: 'manifest.json', data: JSON.stringify(entries) },
    { path: 'c1.json', data: configOf('amd64') },
    { path: 'c2.json', data: configOf('arm64') },
    { path: 'c3.json', data: configOf('s390x') },
    { path: 'c4.json', data: configOf('ppc64le') },
    { path: 'a/layer.tar', data: a.tar },
  ]);
  const path = writeTemp('a3.tar', tar);

  it('loads untagged images next to tagged ones, reported by config digest', async () => {
    const home = join(tempDir(), 'home');
    const result = await runRegtool(['--json', 'load', '-i', path], {
      env: { REGTOOL_HOME: home },
    });
    expect(result.exitCode).toBe(0);
    const loaded = JSON.parse(result.stdout).loaded as Array<{
      name: string | null;
      config: string;
    }>;
    expect(loaded).toHaveLength(4);
    expect(loaded.filter((image) => image.name === null).map((image) => image.config)).toEqual(
      ['amd64', 'arm64', 's390x'].map((arch) => sha256Digest(configOf(arch))),
    );
    const index = JSON.parse(readFileSync(join(home, 'index.json'), 'utf8'));
    expect(index.manifests).toHaveLength(4);
  });

  it('names one untagged image with --tag, picked by @N', async () => {
    const home = join(tempDir(), 'home');
    const result = await runRegtool(['load', '-i', path, '@1', '--tag', 'fixed:2'], {
      env: { REGTOOL_HOME: home },
    });
    expect(result.exitCode).toBe(0);
    const listed = await runRegtool(['--json', 'ls'], { env: { REGTOOL_HOME: home } });
    expect(JSON.parse(listed.stdout).images.map((i: { name: string }) => i.name)).toEqual([
      'docker.io/library/fixed:2',
    ]);
  });
});

describe('A4: compressed or misnamed archives', () => {
  const { tar } = twoImageDockerArchive();
  const half = Math.floor(tar.length / 2);
  const forms: Record<string, Buffer> = {
    'plain.tar': tar,
    'gzip.tar.gz': gzipSync(tar),
    'gzip-named.tar': gzipSync(tar),
    'plain-named.tar.gz': tar,
    'members.tar.gz': Buffer.concat([
      gzipSync(tar.subarray(0, half)),
      gzipSync(tar.subarray(half)),
    ]),
  };

  it.each(Object.keys(forms))('%s loads the same images', async (name) => {
    const { images } = await loadInto(writeTemp(name, forms[name]!));
    expect(images.map((image) => image.name)).toEqual(['alpha:1.0', 'beta:1.0']);
  });

  it.each([
    ['zstd', 'zst'],
    ['xz', 'xz'],
    ['bzip2', 'bz2'],
  ])('%s loads the same images', async (program, suffix) => {
    const plain = writeTemp('z.tar', tar);
    await execa(program, ['-q', '-k', plain]);
    const { images } = await loadInto(`${plain}.${suffix}`);
    expect(images.map((image) => image.descriptor.digest)).toEqual(
      (await loadInto(plain)).images.map((image) => image.descriptor.digest),
    );
  });
});

describe('A5: crane-style tarball', () => {
  const plain = makeLayer({ 'p.txt': 'plain' });
  const config = makeConfig([a.diffId, plain.diffId]);
  const configName = `sha256:${sha256Digest(config).slice(7)}`;
  const archive = (layerGz: Buffer, configBytes = config) =>
    makeTar([
      {
        path: 'manifest.json',
        data: JSON.stringify([
          {
            Config: configName,
            RepoTags: ['crane:1'],
            Layers: [`${a.gzDigest.slice(7)}.tar.gz`, `${plain.diffId.slice(7)}.tar`],
          },
        ]),
      },
      { path: configName, data: configBytes },
      { path: `${a.gzDigest.slice(7)}.tar.gz`, data: layerGz },
      { path: `${plain.diffId.slice(7)}.tar`, data: plain.tar },
    ]);

  it('detects compression per layer and describes the bytes actually there', async () => {
    const { layout, images } = await loadInto(writeTemp('a5.tar', archive(a.gz)));
    const parsed = await manifestOf(layout, images[0]!.descriptor);
    expect(parsed.kind === 'image' && parsed.manifest.layers).toEqual([
      { mediaType: MediaType.ociLayerGzip, digest: a.gzDigest, size: a.gz.length },
      { mediaType: MediaType.ociLayer, digest: plain.diffId, size: plain.tar.length },
    ]);
  });

  it('fails with an integrity error when a layer does not decompress to its diff_id', async () => {
    const other = makeLayer({ 'a.txt': 'not a' });
    const dir = join(tempDir(), 'store');
    const error = await failure(loadInto(writeTemp('a5-bad.tar', archive(other.gz)), dir));
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.code).toBe('DIFF_ID_MISMATCH');
    expect(blobCount(dir)).toBe(0);
  });
});

/** An OCI archive: index.json → [index →] index → amd64 image + attestation. */
function nestedArchive(wrapped: boolean) {
  const config = makeConfig([a.diffId]);
  const image = makeOciManifest(config, [a.gz]);
  const attestationConfig = Buffer.from('{}');
  const attestation = makeOciManifest(attestationConfig, []);
  const entries = [
    {
      ...descriptorOf(image, MediaType.ociManifest),
      platform: { os: 'linux', architecture: 'amd64' },
    },
    {
      ...descriptorOf(attestation, MediaType.ociManifest),
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
    },
  ];
  const inner = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: entries }),
  );
  // One more level, as nerdctl and Docker with the containerd store write: an index of an index.
  const middle = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [descriptorOf(inner, MediaType.ociIndex)],
    }),
  );
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      {
        ...(wrapped
          ? descriptorOf(middle, MediaType.ociIndex)
          : descriptorOf(inner, MediaType.ociIndex)),
        annotations: { 'io.containerd.image.name': 'docker.io/library/nested:1' },
      },
    ],
  };
  const tar = makeTar([
    { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { path: 'index.json', data: JSON.stringify(index) },
    ...blobItems([config, image, attestationConfig, attestation, a.gz, inner, middle]),
  ]);
  return { tar, image, attestation };
}

/**
 * An index that names itself: content addressing makes a true loop impossible, so the blob
 * stored under the index's digest holds an index pointing back at that digest.
 */
function loopArchive() {
  const digest = sha256Digest('the loop');
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ mediaType: MediaType.ociIndex, digest, size: 0 }],
    }),
  );
  const entry = { mediaType: MediaType.ociIndex, digest, size: body.length };
  return makeTar([
    { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    {
      path: 'index.json',
      data: JSON.stringify({
        schemaVersion: 2,
        manifests: [{ ...entry, annotations: { 'io.containerd.image.name': 'loop:1' } }],
      }),
    },
    { path: `blobs/sha256/${digest.slice(7)}`, data: body },
  ]);
}

describe('A6 and A8: nested indexes and attestations', () => {
  it('names the image from the outer annotation and keeps the attestation when copying all', async () => {
    const { tar, attestation } = nestedArchive(true);
    const { images, dir } = await loadInto(writeTemp('a6.tar', tar));
    expect(images.map((image) => image.reference?.toString())).toEqual([
      'docker.io/library/nested:1',
    ]);
    expect(existsSync(join(dir, 'blobs/sha256', sha256Digest(attestation).slice(7)))).toBe(true);
  });

  it('lists only the real image in manifest.json, however deep the index', async () => {
    const { layout } = await loadInto(writeTemp('a8.tar', nestedArchive(true).tar));
    const out = join(tempDir(), 'a8-out.tar');
    await saveFrom(layout, ['nested:1'], out);
    const manifestJson = JSON.parse((await execa('tar', ['xOf', out, 'manifest.json'])).stdout);
    expect(manifestJson).toHaveLength(1);
    expect(manifestJson[0].Config).toBe(
      `blobs/sha256/${sha256Digest(makeConfig([a.diffId])).slice(7)}`,
    );
  });

  it('leaves the attestation out of --platform', async () => {
    const { tar, image } = nestedArchive(false);
    const { layout } = await loadInto(writeTemp('a8-one.tar', tar));
    const single = join(tempDir(), 'a8-one.tar');
    await saveFrom(layout, ['nested:1'], single, {
      kind: 'one',
      platform: { os: 'linux', architecture: 'amd64' },
    });
    const index = JSON.parse((await execa('tar', ['xOf', single, 'index.json'])).stdout);
    expect(index.manifests[0].digest).toBe(sha256Digest(image));
  });

  it('fails on an index loop instead of hanging', async () => {
    const error = await failure(loadInto(writeTemp('a6-loop.tar', loopArchive())));
    expect(['MANIFEST_LOOP', 'DIGEST_MISMATCH', 'SIZE_MISMATCH']).toContain(error.code);
    expect(error.exitCode).toBe(5);
  });
});

describe('A9: multi-image docker save', () => {
  const { tar, base } = twoImageDockerArchive();
  const path = writeTemp('a9.tar', tar);

  it('loads every image, and picks one by name or by @N', async () => {
    for (const pick of ['beta:1.0', '@1']) {
      const home = join(tempDir(), 'home');
      const result = await runRegtool(['--json', 'load', '-i', path, pick], {
        env: { REGTOOL_HOME: home },
      });
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout).loaded.map((i: { name: string }) => i.name)).toEqual([
        'docker.io/library/beta:1.0',
      ]);
    }
  });

  it('counts images, not names, in @N', async () => {
    const twoNames = writeTemp('a9-names.tar', twoImageDockerArchive(['alpha:1.0', 'alpha:2']).tar);
    const picked = async (pick: string) => {
      const home = join(tempDir(), 'home');
      const result = await runRegtool(['--json', 'load', '-i', twoNames, pick], {
        env: { REGTOOL_HOME: home },
      });
      expect(result.exitCode).toBe(0);
      return JSON.parse(result.stdout).loaded.map((i: { name: string }) => i.name);
    };
    expect(await picked('@1')).toEqual(['docker.io/library/beta:1.0']);
    expect(await picked('@0')).toEqual([
      'docker.io/library/alpha:1.0',
      'docker.io/library/alpha:2',
    ]);
  });

  it('writes the shared layer once when saved again', async () => {
    const { layout } = await loadInto(path);
    const out = join(tempDir(), 'a9-out.tar');
    await saveFrom(layout, ['alpha:1.0', 'beta:1.0'], out);
    const entries = await tarList(out);
    expect(entries.filter((e) => e.endsWith(base.diffId.slice(7)))).toHaveLength(1);
    expect(new Set(entries).size).toBe(entries.length);
    const reread = await ArchiveReader.open(out);
    expect(reread.images.map((image) => image.name)).toEqual([
      'docker.io/library/alpha:1.0',
      'docker.io/library/beta:1.0',
    ]);
    await reread.close();
  });
});
