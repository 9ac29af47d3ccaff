/**
 * Interop with the real programs: skopeo and podman read the archive regtool writes, and
 * regtool reads what they write, with the same config digests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { parseManifest } from '../../src/core/manifest.js';
import { parseReference } from '../../src/core/reference.js';
import type { Store } from '../../src/core/store.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { projectRoot, tempDir } from '../helpers/cli.js';
import { startPodmanService, startRegistry, type RegistryPeer } from '../peers/index.js';
import { loadInto, saveFrom } from './helpers.js';

const fixtures = join(projectRoot, 'fixtures', 'images');
const names = ['alpha:1.0', 'beta:1.0', 'links:1.0', 'empty-layer:1.0'];
const haveTools = ['skopeo', 'podman'].every((tool) =>
  ['/usr/bin', '/usr/local/bin'].some((dir) => existsSync(join(dir, tool))),
);

/** configDigest reads the config digest of an image manifest, or of its host image. */
async function configDigest(store: Store, name: string): Promise<string> {
  const descriptor = await store.resolve(parseReference(name));
  const parsed = parseManifest((await store.getManifest('', descriptor)).bytes);
  if (parsed.kind !== 'image') throw new Error(`${name} is not an image manifest`);
  return parsed.manifest.config.digest;
}

function podman(root: string) {
  return (...args: string[]) =>
    execa('podman', [
      '--root',
      join(root, 'root'),
      '--runroot',
      join(root, 'run'),
      '--storage-driver',
      'vfs',
      ...args,
    ]);
}

describe.skipIf(!haveTools || !existsSync(fixtures))('interop with skopeo and podman', () => {
  const source = new LayoutStore(fixtures);
  let archive: string;
  let expected: Record<string, string>;

  beforeAll(async () => {
    archive = join(tempDir(), 'ours.tar');
    await saveFrom(source, [...names, 'multi:1.0'], archive);
    expected = {};
    for (const name of names) expected[name] = await configDigest(source, name);
  });

  it('skopeo reads every image as docker-archive:@N and copies it to a registry', async () => {
    const registry: RegistryPeer = await startRegistry();
    const manifestJson = JSON.parse((await execa('tar', ['xOf', archive, 'manifest.json'])).stdout);
    expect(manifestJson).toHaveLength(names.length + 1);
    const copied: string[] = [];
    for (const n of manifestJson.keys()) {
      const target = `docker://${registry.url}/interop/n${n}:1`;
      await execa('skopeo', [
        'copy',
        '--dest-tls-verify=false',
        `docker-archive:${archive}:@${n}`,
        target,
      ]);
      const { stdout } = await execa(
        'skopeo',
        ['inspect', '--tls-verify=false', '--config', '--raw', target],
        { stripFinalNewline: false },
      );
      copied.push(sha256Digest(stdout));
    }
    expect(copied).toEqual(expect.arrayContaining(Object.values(expected)));
  });

  it('skopeo reads every image as oci-archive by its full name, with its config digest', async () => {
    for (const name of names) {
      const full = parseReference(name).toString();
      const { stdout } = await execa('skopeo', [
        'inspect',
        '--raw',
        `oci-archive:${archive}:${full}`,
      ]);
      expect(JSON.parse(stdout).config.digest).toBe(expected[name]);
    }
  });

  it('podman loads the multi-image archive and lists every image by name', async () => {
    const run = podman(tempDir());
    await run('load', '-i', archive);
    const { stdout } = await run('images', '--format', '{{.Repository}}:{{.Tag}}');
    for (const name of [...names, 'multi:1.0'])
      expect(stdout.split('\n')).toContain(parseReference(name).toString());
  });

  it('manifest.json lists the host image of a multi-platform index', async () => {
    const manifestJson = JSON.parse((await execa('tar', ['xOf', archive, 'manifest.json'])).stdout);
    const multi = manifestJson.find((entry: { RepoTags: string[] }) =>
      entry.RepoTags.includes('docker.io/library/multi:1.0'),
    );
    const config = JSON.parse((await execa('tar', ['xOf', archive, multi.Config])).stdout);
    const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'];
    expect(config.architecture).toBe(arch);
  });

  it('loads what podman save -m writes, with the same config digests', async () => {
    const root = tempDir();
    const run = podman(root);
    const pulled = names.slice(0, 2).map((name) => parseReference(name).toString());
    const storage = `containers-storage:[vfs@${join(root, 'root')}+${join(root, 'run')}]`;
    for (const name of pulled)
      await execa('skopeo', ['copy', `oci:${fixtures}:${name}`, `${storage}${name}`]);
    const out = join(tempDir(), 'podman.tar');
    await run('save', '-m', '--format', 'docker-archive', '-o', out, ...pulled);
    const { layout, images } = await loadInto(out);
    expect(images).toHaveLength(2);
    const digests = await Promise.all(images.map((image) => configDigest(layout, image.name!)));
    expect(digests.sort()).toEqual(
      names
        .slice(0, 2)
        .map((name) => expected[name])
        .sort(),
    );
  });

  it.each(['docker-archive', 'oci-archive'])(
    'loads what skopeo copy … %s: writes, with the same config digest',
    async (transport) => {
      const out = join(tempDir(), 'skopeo.tar');
      const name = 'docker.io/library/alpha:1.0';
      await execa('skopeo', ['copy', `oci:${fixtures}:${name}`, `${transport}:${out}:${name}`]);
      const { layout, images } = await loadInto(out);
      expect(images).toHaveLength(1);
      expect(await configDigest(layout, images[0]!.name!)).toBe(expected['alpha:1.0']);
      expect(readFileSync(out).length).toBeGreaterThan(0);
    },
  );
});

describe.skipIf(!haveTools || !existsSync(fixtures))("interop with podman's Docker API", () => {
  const source = new LayoutStore(fixtures);
  const curl = (socket: string, ...args: string[]) =>
    execa('curl', ['-sf', '--unix-socket', socket, ...args]);

  it('POST /images/load takes the multi-image archive; GET /images/get gives one back', async () => {
    const service = await startPodmanService();
    const archive = join(tempDir(), 'api.tar');
    const wanted = ['alpha:1.0', 'beta:1.0'];
    await saveFrom(source, wanted, archive);
    const loaded = await curl(
      service.socket,
      '-X',
      'POST',
      '-H',
      'Content-Type: application/x-tar',
      '--data-binary',
      `@${archive}`,
      'http://d/v1.41/images/load',
    );
    for (const name of wanted) expect(loaded.stdout).toContain(parseReference(name).toString());
    const out = join(tempDir(), 'api-get.tar');
    const query = wanted.map(
      (name) => `names=${encodeURIComponent(parseReference(name).toString())}`,
    );
    await curl(service.socket, '-o', out, `http://d/v1.41/images/get?${query.join('&')}`);
    const { layout, images } = await loadInto(out);
    expect(images).toHaveLength(2);
    const digests = await Promise.all(images.map((image) => configDigest(layout, image.name!)));
    const expected = await Promise.all(wanted.map((name) => configDigest(source, name)));
    expect(digests.sort()).toEqual(expected.sort());
  });
});
