#!/usr/bin/env node
/**
 * Writes the fixture images as an OCI image layout, byte for byte the same on every run:
 *
 *   node scripts/make-fixtures.mjs [OUTPUT_DIR]      (default: fixtures/images)
 *
 * Every tar entry has a fixed mtime, uid and gid 0 and no user or group names; entries are
 * sorted by path; gzip streams carry mtime 0 and a fixed OS byte; JSON keys are written in a
 * fixed order. test/fixtures.test.ts regenerates the layout and compares it with the committed
 * copy, so change this script and the fixtures together.
 *
 * Images, each named in index.json by `org.opencontainers.image.ref.name`:
 *   docker.io/library/base:1.0         one gzip layer, shared by every image below
 *   docker.io/library/alpha:1.0        base + a small layer
 *   docker.io/library/beta:1.0         base + another small layer
 *   docker.io/library/multi:1.0        an index of linux/amd64, linux/arm64 and linux/arm/v7
 *   docker.io/library/empty-layer:1.0  base + a layer that is an empty tar
 *   docker.io/library/links:1.0        base + symlink, hardlink, whiteout and opaque whiteout
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';

import { Header } from 'tar';

const MEDIA_TYPE = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
};
const REF_NAME = 'org.opencontainers.image.ref.name';
const CREATED = '2024-01-01T00:00:00Z';
const MTIME = new Date(CREATED);
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BLOCK = 512;
// Byte 9 of a gzip header names the OS that wrote it; zlib's value depends on the build.
const GZIP_OS_UNIX = 3;

const scriptDir = dirname(fileURLToPath(import.meta.url));
const outputDir = resolve(process.argv[2] ?? join(scriptDir, '..', 'fixtures', 'images'));

// Layer contents. A path ending in '/' is a directory; `link` makes a hardlink, `symlink` a
// symbolic link. Names starting with `.wh.` are whiteouts, `.wh..wh..opq` an opaque whiteout.
const dir = (path, mode = 0o755) => ({ path, mode });
const file = (path, content, mode = 0o644) => ({ path, mode, content });

const BASE_FILES = [
  dir('bin/'),
  file('bin/hello', '#!/bin/sh\necho "hello from a regtool fixture"\n', 0o755),
  dir('etc/'),
  file('etc/motd', 'This is a regtool test fixture.\n'),
  file('etc/os-release', 'NAME="regtool fixtures"\nID=regtool-fixtures\nVERSION_ID=1.0\n'),
  file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n'),
  dir('tmp/', 0o1777),
  dir('var/'),
  dir('var/cache/'),
  file('var/cache/stale.txt', 'hidden by the opaque whiteout in links:1.0\n'),
];

const ALPHA_FILES = [dir('etc/'), file('etc/alpha.txt', 'alpha 1.0\n')];
const BETA_FILES = [dir('etc/'), file('etc/beta.txt', 'beta 1.0\n')];

const LINKS_FILES = [
  dir('data/'),
  file('data/original.txt', 'one file, two names\n'),
  { path: 'data/same-as-original.txt', mode: 0o644, link: 'data/original.txt' },
  { path: 'data/symlink-to-original.txt', mode: 0o777, symlink: 'original.txt' },
  dir('etc/'),
  file('etc/.wh.motd', ''),
  dir('var/'),
  dir('var/cache/'),
  file('var/cache/.wh..wh..opq', ''),
  file('var/cache/fresh.txt', 'the only file left in /var/cache\n'),
];

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

function entryType(entry) {
  if (entry.link) {
    return 'Link';
  }
  if (entry.symlink) {
    return 'SymbolicLink';
  }
  return entry.path.endsWith('/') ? 'Directory' : 'File';
}

function tarHeader(entry, size) {
  const header = new Header({
    path: entry.path,
    mode: entry.mode,
    uid: 0,
    gid: 0,
    size,
    mtime: MTIME,
    type: entryType(entry),
    linkpath: entry.link ?? entry.symlink ?? '',
    uname: '',
    gname: '',
  });
  if (header.encode()) {
    throw new Error(`${entry.path}: needs a pax header, which the fixtures avoid`);
  }
  return header.block;
}

function checkOrder(entries) {
  const seen = new Set();
  entries.forEach((entry, i) => {
    if (i > 0 && entries[i - 1].path >= entry.path) {
      throw new Error(`layer entries must be sorted by path: ${entry.path}`);
    }
    if (entry.link && !seen.has(entry.link)) {
      throw new Error(`hardlink ${entry.path} must come after its target ${entry.link}`);
    }
    seen.add(entry.path);
  });
}

/** makeTar: the tar stream of `entries`, ending in the two zero blocks of an archive's end. */
function makeTar(entries) {
  checkOrder(entries);
  const parts = [];
  for (const entry of entries) {
    const content = Buffer.from(entry.content ?? '');
    parts.push(tarHeader(entry, content.length), content);
    parts.push(Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/**
 * gzip with mtime 0 and a fixed OS byte. The RLE strategy is used because its output matches
 * reference zlib's byte for byte, where Node's bundled zlib picks different matches with the
 * default strategy, which would make the fixtures depend on the Node build.
 */
function gzip(bytes) {
  const compressed = gzipSync(bytes, { level: 9, strategy: constants.Z_RLE });
  compressed[9] = GZIP_OS_UNIX;
  return compressed;
}

function makeLayer(entries) {
  const tar = makeTar(entries);
  return { diffId: `sha256:${sha256(tar)}`, blob: gzip(tar) };
}

/** Blobs by digest; the same content written twice is stored once. */
const blobs = new Map();

function addBlob(mediaType, bytes, extra = {}) {
  const digest = `sha256:${sha256(bytes)}`;
  blobs.set(digest, bytes);
  return { mediaType, digest, size: bytes.length, ...extra };
}

function addJson(mediaType, value, extra) {
  return addBlob(mediaType, Buffer.from(JSON.stringify(value)), extra);
}

function history(createdBy, extra = {}) {
  return { created: CREATED, created_by: createdBy, ...extra };
}

/** addImage writes the config and manifest of an image and returns the manifest descriptor. */
function addImage({ title, platform, layers, historyEntries, cmd = ['/bin/hello'] }) {
  const config = {
    created: CREATED,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: {
      Env: [PATH_ENV],
      Cmd: cmd,
      Labels: { 'org.opencontainers.image.title': title },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
    history: historyEntries,
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.manifest,
    config: addJson(MEDIA_TYPE.config, config),
    layers: layers.map((layer) => addBlob(MEDIA_TYPE.layerGzip, layer.blob)),
  };
  return addJson(MEDIA_TYPE.manifest, manifest);
}

function named(descriptor, name) {
  return { ...descriptor, annotations: { [REF_NAME]: name } };
}

const AMD64 = { architecture: 'amd64', os: 'linux' };
const baseLayer = makeLayer(BASE_FILES);
const baseHistory = history('ADD base files /');

function addBaseImage(title) {
  return addImage({ title, platform: AMD64, layers: [baseLayer], historyEntries: [baseHistory] });
}

function addImageOnBase(title, entries, createdBy, platform = AMD64) {
  return addImage({
    title,
    platform,
    layers: [baseLayer, makeLayer(entries)],
    historyEntries: [baseHistory, history(createdBy)],
  });
}

function addMultiPlatformIndex() {
  const platforms = [
    { architecture: 'amd64', os: 'linux' },
    { architecture: 'arm64', os: 'linux' },
    { architecture: 'arm', os: 'linux', variant: 'v7' },
  ];
  const manifests = platforms.map((platform) => {
    const name = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
    const entries = [dir('etc/'), file('etc/platform', `${name}\n`)];
    const descriptor = addImageOnBase('multi', entries, 'ADD etc/platform /etc/', platform);
    return { ...descriptor, platform };
  });
  return addJson(MEDIA_TYPE.index, { schemaVersion: 2, mediaType: MEDIA_TYPE.index, manifests });
}

function addEmptyLayerImage() {
  return addImage({
    title: 'empty-layer',
    platform: AMD64,
    layers: [baseLayer, makeLayer([])],
    historyEntries: [
      baseHistory,
      history('ENV GREETING=hello', { empty_layer: true }),
      history('RUN true', { comment: 'a layer with no files', empty_layer: false }),
    ],
  });
}

const images = [
  named(addBaseImage('base'), 'docker.io/library/base:1.0'),
  named(addImageOnBase('alpha', ALPHA_FILES, 'ADD alpha.txt /etc/'), 'docker.io/library/alpha:1.0'),
  named(addImageOnBase('beta', BETA_FILES, 'ADD beta.txt /etc/'), 'docker.io/library/beta:1.0'),
  named(addMultiPlatformIndex(), 'docker.io/library/multi:1.0'),
  named(addEmptyLayerImage(), 'docker.io/library/empty-layer:1.0'),
  named(addImageOnBase('links', LINKS_FILES, 'COPY links /'), 'docker.io/library/links:1.0'),
];

async function writeLayout() {
  for (const name of ['blobs', 'index.json', 'oci-layout']) {
    await rm(join(outputDir, name), { recursive: true, force: true });
  }
  await mkdir(join(outputDir, 'blobs', 'sha256'), { recursive: true });
  for (const [digest, bytes] of [...blobs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    await writeFile(join(outputDir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
  }
  await writeFile(join(outputDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPE.index, manifests: images };
  await writeFile(join(outputDir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
}

await writeLayout();
const total = [...blobs.values()].reduce((sum, bytes) => sum + bytes.length, 0);
console.error(
  `wrote ${images.length} images, ${blobs.size} blobs (${total} bytes) to ${outputDir}`,
);
