import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { copyImages } from '../../src/copy/copy-images.js';
import { parseManifest } from '../../src/core/manifest.js';
import { parseReference, type Reference } from '../../src/core/reference.js';
import type { Store } from '../../src/core/store.js';
import { daemonArchives } from '../../src/stores/daemon-archives.js';
import { openDaemonStore } from '../../src/stores/daemon/open-daemon.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { startPodmanService, type PodmanPeer } from '../peers/index.js';
import { daemonImageNames, daemonRequest, importImage, rootfsTar } from './daemon-helpers.js';

const fixtures = resolve('fixtures/images');
const names = ['base', 'alpha', 'beta'];
let podman: PodmanPeer;
let scratch: string;

beforeAll(async () => {
  podman = await startPodmanService();
  scratch = await mkdtemp(join(tmpdir(), 'regtool-daemon-copy-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function openDaemon(mode: 'read' | 'write') {
  return openDaemonStore(daemonArchives({}), { mode, env: { DOCKER_HOST: podman.dockerHost } });
}

/** configDigest reads the config digest of the single-platform image a name points at. */
async function configDigest(store: Store, reference: Reference): Promise<string> {
  const root = await store.resolve(reference);
  const { bytes } = await store.getManifest(reference.repository, root);
  const manifest = parseManifest(bytes, root.mediaType, `${reference}`);
  if (manifest.kind !== 'image') throw new Error(`${reference} is not a single image`);
  return manifest.manifest.config.digest;
}

describe('loading into the daemon', () => {
  it('gives every image of a 3-image copy, listed by its name', async () => {
    const source = new LayoutStore(fixtures);
    const daemon = await openDaemon('write');
    const requests = names.map((name) => ({
      source: parseReference(`docker.io/library/${name}:1.0`),
      target: parseReference(`localhost/daemon-load/${name}:1.0`),
    }));
    const summary = await copyImages(source, daemon, requests);
    await daemon.close();
    expect(summary.images).toHaveLength(3);
    const listed = await daemonImageNames(podman.socket);
    for (const name of names) expect(listed).toContain(`localhost/daemon-load/${name}:1.0`);
  });
});

describe('saving from the daemon', () => {
  it('keeps the config digest of an image the daemon loaded', async () => {
    const source = new LayoutStore(fixtures);
    const original = await configDigest(source, parseReference('docker.io/library/alpha:1.0'));
    const daemon = await openDaemon('write');
    const loaded = parseReference('localhost/daemon-save/alpha:1.0');
    await copyImages(source, daemon, [
      { source: parseReference('docker.io/library/alpha:1.0'), target: loaded },
    ]);
    await daemon.close();

    const fromDaemon = await openDaemon('read');
    const layout = new LayoutStore(join(scratch, 'saved'));
    await copyImages(fromDaemon, layout, [{ source: loaded }]);
    await layout.close();
    await fromDaemon.close();
    expect(await configDigest(new LayoutStore(join(scratch, 'saved')), loaded)).toBe(original);
  });
});

describe('saving an unnamed image from the daemon', () => {
  it('finds it by its image ID, the digest of its config', async () => {
    const answer = await daemonRequest(
      podman.socket,
      'POST',
      '/v1.41/images/create?fromSrc=-',
      await rootfsTar('an image with no name'),
    );
    const id = (JSON.parse(answer.text) as { id: string }).id;
    const byId = parseReference(`localhost/daemon-unnamed/image@${id}`);
    const named = parseReference('localhost/daemon-unnamed/image:saved');

    const fromDaemon = await openDaemon('read');
    const layout = new LayoutStore(join(scratch, 'unnamed'));
    await copyImages(fromDaemon, layout, [{ source: byId, target: named }]);
    await layout.close();
    await fromDaemon.close();
    expect(await configDigest(new LayoutStore(join(scratch, 'unnamed')), named)).toBe(id);
  });
});

describe('saving a larger image from the daemon', () => {
  it('keeps pace with the daemon while the answer is written to disk', async () => {
    const name = 'localhost/daemon-save/large:1.0';
    const id = await importImage(podman.socket, name, randomBytes(48 << 20));
    const started = performance.now();
    const fromDaemon = await openDaemon('read');
    const layout = new LayoutStore(join(scratch, 'large'));
    await copyImages(fromDaemon, layout, [{ source: parseReference(name) }]);
    await layout.close();
    await fromDaemon.close();
    // An answer that stalled about 60 ms at each pause took over 40 s for this; a steady one, 3.
    expect(performance.now() - started).toBeLessThan(25_000);
    expect(await configDigest(new LayoutStore(join(scratch, 'large')), parseReference(name))).toBe(
      id,
    );
  });
});
