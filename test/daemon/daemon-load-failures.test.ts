import { once } from 'node:events';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';

import { beforeAll, describe, expect, it } from 'vitest';

import { copyImages } from '../../src/copy/copy-images.js';
import { NetworkError } from '../../src/core/errors.js';
import { parseReference } from '../../src/core/reference.js';
import type { OrderedSink, Store } from '../../src/core/store.js';
import { daemonArchives } from '../../src/stores/daemon-archives.js';
import type { ArchiveAccess } from '../../src/stores/daemon/archive-access.js';
import { openDaemonStore } from '../../src/stores/daemon/open-daemon.js';
import { LayoutStore } from '../../src/stores/layout/layout-store.js';
import { startPodmanService, type PodmanPeer } from '../peers/index.js';
import { daemonImageNames } from './daemon-helpers.js';

let podman: PodmanPeer;

beforeAll(async () => {
  podman = await startPodmanService();
});

/** An archive writer that writes bytes no daemon can load, to see how a refused load ends. */
function junkWriter(sink: Writable): Store & OrderedSink {
  return {
    beginImages: async () => {
      sink.write(Buffer.alloc(4096, 'junk'));
      return [];
    },
    close: async () => {
      sink.end();
      await once(sink, 'finish');
    },
    abort: async () => {},
  } as unknown as Store & OrderedSink;
}

describe('a load the daemon refuses', () => {
  it('fails on close with the daemon reason, as a network error', async () => {
    const archives: ArchiveAccess = { ...daemonArchives({}), createArchiveWriter: junkWriter };
    const daemon = await openDaemonStore(archives, {
      mode: 'write',
      env: { DOCKER_HOST: podman.dockerHost },
    });
    await daemon.beginImages([]);
    const error = await daemon.close().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/loading images into the daemon at unix:\/\/.*500/);
    expect((error as Error).message).toMatch(/supported image formats/);
  });
});

describe('an aborted load', () => {
  it('leaves no image in the daemon', async () => {
    const daemon = await openDaemonStore(daemonArchives({}), {
      mode: 'write',
      env: { DOCKER_HOST: podman.dockerHost },
    });
    const target = parseReference('localhost/daemon-abort/beta:1.0');
    const source = new LayoutStore(resolve('fixtures/images'));
    const controller = new AbortController();
    const copy = copyImages(
      source,
      daemon,
      [{ source: parseReference('docker.io/library/beta:1.0'), target }],
      {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'blob-start') controller.abort();
        },
      },
    );
    await expect(copy).rejects.toThrow();
    await daemon.abort();
    expect(await daemonImageNames(podman.socket)).not.toContain(`${target}`);
  });
});
