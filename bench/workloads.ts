import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { execa } from 'execa';

import { sha256Digest } from '../src/core/digest.js';
import { MediaType } from '../src/core/media-types.js';
import { parseReference } from '../src/core/reference.js';
import { LayoutStore } from '../src/stores/layout/layout-store.js';

/** A layer built for the benchmark: its gzip blob on disk and what describes it. */
export interface BuiltLayer {
  file: string;
  digest: string;
  diffId: string;
  size: number;
}

async function sha256File(file: string): Promise<string> {
  const { stdout } = await execa('sha256sum', [file]);
  return `sha256:${stdout.split(' ')[0]}`;
}

/**
 * layerFromTree packs a directory into a gzip layer (pigz -1, as fast as gzip gets) and keeps
 * it in `cache`, so a second benchmark run does not pay for building it again.
 */
export async function layerFromTree(
  cache: string,
  name: string,
  fill: (root: string) => Promise<void>,
): Promise<BuiltLayer> {
  const file = join(cache, `${name}.tar.gz`);
  const meta = join(cache, `${name}.json`);
  if (existsSync(meta) && existsSync(file))
    return JSON.parse(await readFile(meta, 'utf8')) as BuiltLayer;
  const root = join(cache, `${name}-root`);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  await fill(root);
  const tar = join(cache, `${name}.tar`);
  await execa('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-C',
    root,
    '-cf',
    tar,
    '.',
  ]);
  await execa('sh', ['-c', `pigz -1 -n -c "${tar}" > "${file}"`]);
  const layer: BuiltLayer = {
    file,
    digest: await sha256File(file),
    diffId: await sha256File(tar),
    size: (await stat(file)).size,
  };
  await rm(tar);
  await rm(root, { recursive: true, force: true });
  await writeFile(meta, JSON.stringify(layer));
  return layer;
}

/** randomLayer is a layer holding one file of random bytes, which no compressor can shrink. */
export function randomLayer(cache: string, name: string, megabytes: number): Promise<BuiltLayer> {
  return layerFromTree(cache, name, async (root) => {
    const file = join(root, `${name}.bin`);
    await execa('sh', ['-c', `head -c ${megabytes * 1_000_000} /dev/urandom > "${file}"`]);
  });
}

/** busyboxLayer is the static busybox binary with a few of its links. */
export function busyboxLayer(cache: string): Promise<BuiltLayer> {
  return layerFromTree(cache, 'busybox', async (root) => {
    await mkdir(join(root, 'bin'), { recursive: true });
    await execa('cp', ['/bin/busybox', join(root, 'bin/busybox')]);
    for (const applet of ['sh', 'ls', 'cat', 'echo'])
      await execa('ln', ['-s', 'busybox', join(root, 'bin', applet)]);
  });
}

/**
 * debianLayer is a Debian minbase root made with debootstrap from Debian's own packages, less
 * apt's caches and lists; undefined (with the reason) when debootstrap cannot run here.
 */
export async function debianLayer(cache: string): Promise<BuiltLayer | string> {
  if (existsSync(join(cache, 'debian.json'))) return layerFromTree(cache, 'debian', async () => {});
  const sources = existsSync('/etc/apt/sources.list.d/debian.sources')
    ? await readFile('/etc/apt/sources.list.d/debian.sources', 'utf8')
    : '';
  const mirror = /^URIs:\s*(\S+)/m.exec(sources)?.[1] ?? 'http://deb.debian.org/debian';
  try {
    await execa('which', ['debootstrap']);
  } catch {
    return 'debootstrap is not installed (apt-get install debootstrap)';
  }
  try {
    return await layerFromTree(cache, 'debian', async (root) => {
      await execa('debootstrap', ['--variant=minbase', 'bookworm', root, mirror], {
        timeout: 600_000,
      });
      await execa('sh', ['-c', `rm -rf "${root}"/var/cache/apt/* "${root}"/var/lib/apt/lists/*`]);
    });
  } catch (error) {
    return `debootstrap failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

/** writeImage stores an image of the given layers in an OCI layout, named `name`. */
export async function writeImage(
  layout: string,
  name: string,
  layers: BuiltLayer[],
): Promise<void> {
  const store = new LayoutStore(layout);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
      history: layers.map(() => ({ created_by: 'regtool bench' })),
    }),
  );
  const configDescriptor = {
    mediaType: MediaType.ociConfig,
    digest: sha256Digest(config),
    size: config.length,
  };
  const layerDescriptors = layers.map((layer) => ({
    mediaType: MediaType.ociLayerGzip,
    digest: layer.digest,
    size: layer.size,
  }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDescriptor,
      layers: layerDescriptors,
    }),
  );
  const manifestDescriptor = {
    mediaType: MediaType.ociManifest,
    digest: sha256Digest(manifest),
    size: manifest.length,
  };
  for (const [i, layer] of layers.entries())
    await store.putBlob('', layerDescriptors[i]!, createReadStream(layer.file));
  await store.putBlob('', configDescriptor, Readable.from([config]));
  await store.putManifest('', manifestDescriptor, manifest);
  await store.tag(parseReference(name), manifestDescriptor);
  await store.close();
}

/** pushImage copies an image from an OCI layout to a registry with skopeo. */
export async function pushImage(
  layout: string,
  name: string,
  registry: string,
  target: string,
): Promise<void> {
  await execa('skopeo', [
    'copy',
    '-q',
    '--dest-tls-verify=false',
    `oci:${layout}:${name}`,
    `docker://${registry}/${target}`,
  ]);
}
