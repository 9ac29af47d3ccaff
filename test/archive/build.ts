/**
 * Builders for archives made inside tests: tar files entry by entry (links, bad paths and all),
 * layers, configs, and whole docker-save and OCI archives.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { Header } from 'tar';

import { sha256Digest } from '../../src/core/digest.js';
import { MediaType } from '../../src/core/media-types.js';
import { tempDir } from '../helpers/cli.js';

export interface TarItem {
  path: string;
  data?: Buffer | string;
  type?: 'File' | 'SymbolicLink' | 'Link' | 'Directory';
  linkpath?: string;
}

/** makeTar writes the items as a ustar archive, in the order given. */
export function makeTar(items: TarItem[]): Buffer {
  const parts: Buffer[] = [];
  for (const item of items) {
    const data = Buffer.from(item.data ?? '');
    const block = Buffer.alloc(512);
    new Header({
      path: item.path,
      type: item.type ?? 'File',
      size: item.type && item.type !== 'File' ? 0 : data.length,
      linkpath: item.linkpath,
      mode: 0o644,
      mtime: new Date(0),
    }).encode(block, 0);
    parts.push(block);
    if (!item.type || item.type === 'File') {
      parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A layer: its tar bytes, digest (= diff_id when uncompressed) and gzip form. */
export function makeLayer(files: Record<string, string>) {
  const tar = makeTar(Object.entries(files).map(([path, data]) => ({ path, data })));
  const gz = gzipSync(tar);
  return { tar, diffId: sha256Digest(tar), gz, gzDigest: sha256Digest(gz) };
}

/** makeConfig writes an image config whose rootfs lists the diff_ids. */
export function makeConfig(diffIds: string[], architecture = 'amd64'): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture,
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
}

export function descriptorOf(bytes: Buffer, mediaType: string) {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length };
}

/** makeOciManifest writes an OCI manifest for a config and gzip layers. */
export function makeOciManifest(config: Buffer, layers: Buffer[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: descriptorOf(config, MediaType.ociConfig),
      layers: layers.map((layer) => descriptorOf(layer, MediaType.ociLayerGzip)),
    }),
  );
}

/** blobItems lays blobs out as `blobs/sha256/<hex>` entries. */
export function blobItems(blobs: Buffer[]): TarItem[] {
  return blobs.map((data) => ({ path: `blobs/sha256/${sha256Digest(data).slice(7)}`, data }));
}

/** writeTemp writes bytes to a file in a fresh temporary folder and returns its path. */
export function writeTemp(name: string, bytes: Buffer): string {
  const path = join(tempDir('regtool-archive-'), name);
  writeFileSync(path, bytes);
  return path;
}

/** A two-image docker-save archive whose images share a base layer. */
export function twoImageDockerArchive(firstTags = ['alpha:1.0']) {
  const base = makeLayer({ 'base.txt': 'base' });
  const extra = makeLayer({ 'extra.txt': 'extra' });
  const configA = makeConfig([base.diffId]);
  const configB = makeConfig([base.diffId, extra.diffId], 'arm64');
  const hexA = sha256Digest(configA).slice(7);
  const hexB = sha256Digest(configB).slice(7);
  const manifest = [
    { Config: `${hexA}.json`, RepoTags: firstTags, Layers: ['base/layer.tar'] },
    {
      Config: `${hexB}.json`,
      RepoTags: ['beta:1.0'],
      Layers: ['base/layer.tar', 'extra/layer.tar'],
    },
  ];
  const tar = makeTar([
    { path: 'manifest.json', data: JSON.stringify(manifest) },
    { path: `${hexA}.json`, data: configA },
    { path: `${hexB}.json`, data: configB },
    { path: 'base/layer.tar', data: base.tar },
    { path: 'extra/layer.tar', data: extra.tar },
  ]);
  return { tar, base, extra, configA, configB };
}

/** blobPathOf is where an OCI layout keeps a blob. */
export function blobPathOf(bytes: Buffer): string {
  return `blobs/sha256/${sha256Digest(bytes).slice(7)}`;
}

/** What goes into an archive laid out as regtool writes it, besides the image's own entries. */
export interface MetadataFirstOptions {
  /** Layers whose own entries are left out, for `head` or `tail` to stand in for. */
  detached?: Buffer[];
  /** Entries before the first layer. */
  head?: TarItem[];
  /** Entries after the last layer. */
  tail?: TarItem[];
}

/**
 * metadataFirstArchive is a docker+oci tar of one image in the order regtool writes it:
 * oci-layout, index.json, manifest.json, config and manifest, then the layers. A reader of the
 * stream knows the images before any layer arrives.
 */
export function metadataFirstArchive(
  name: string,
  layers: Buffer[],
  options: MetadataFirstOptions = {},
): Buffer {
  const config = makeConfig(layers.map((layer) => sha256Digest(layer)));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: descriptorOf(config, MediaType.ociConfig),
      layers: layers.map((layer) => descriptorOf(layer, MediaType.ociLayer)),
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        ...descriptorOf(manifest, MediaType.ociManifest),
        annotations: { 'org.opencontainers.image.ref.name': name },
      },
    ],
  };
  const docker = [{ Config: blobPathOf(config), RepoTags: [name], Layers: layers.map(blobPathOf) }];
  const detached = options.detached ?? [];
  return makeTar([
    { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { path: 'index.json', data: JSON.stringify(index) },
    { path: 'manifest.json', data: JSON.stringify(docker) },
    { path: blobPathOf(config), data: config },
    { path: blobPathOf(manifest), data: manifest },
    ...(options.head ?? []),
    ...blobItems(layers.filter((layer) => !detached.includes(layer))),
    ...(options.tail ?? []),
  ]);
}
