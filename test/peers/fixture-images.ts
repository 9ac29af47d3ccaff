import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execa } from 'execa';

import { ensurePeer, type StartingPeer } from './peer-dir.js';
import { requireCommand } from './processes.js';
import type { RegistryPeer } from './registry.js';

/** One fixture image, as built in the OCI layout and as pushed to a registry. */
export interface FixtureImage {
  /** Its tag in the OCI layout: skopeo reads it as `oci:<layout>:<layoutTag>`. */
  layoutTag: string;
  repository: string;
  tag: string;
  /** `<registry>/<repository>:<tag>`. */
  reference: string;
}

/**
 * Two images written by umoci and pushed by skopeo, so tests read content that regtool did not
 * write: `busybox` (the static busybox binary, a few links, /etc/passwd) and `tools`, which has
 * the same base layer plus a small layer of its own.
 */
export interface FixtureImages {
  layout: string;
  busybox: FixtureImage;
  tools: FixtureImage;
}

interface LayoutData {
  layout: string;
}

function platformArchitecture(): string {
  const names: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    s390x: 's390x',
  };
  return names[process.arch] ?? process.arch;
}

async function umoci(...args: string[]): Promise<void> {
  await execa('umoci', args);
}

async function buildBusybox(layout: string, bundle: string, busybox: string): Promise<void> {
  await umoci('new', '--image', `${layout}:busybox`);
  await umoci('unpack', '--image', `${layout}:busybox`, bundle);
  const rootfs = join(bundle, 'rootfs');
  for (const dir of ['bin', 'etc', 'tmp']) {
    await mkdir(join(rootfs, dir), { recursive: true });
  }
  await copyFile(busybox, join(rootfs, 'bin', 'busybox'));
  for (const applet of ['sh', 'ls', 'cat', 'echo']) {
    await symlink('busybox', join(rootfs, 'bin', applet));
  }
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await umoci('repack', '--image', `${layout}:busybox`, bundle);
  // After repack: umoci config run before it would be lost.
  await umoci(
    'config',
    '--image',
    `${layout}:busybox`,
    '--config.cmd',
    '/bin/sh',
    '--config.env',
    'PATH=/bin',
    '--architecture',
    platformArchitecture(),
    '--os',
    'linux',
  );
}

async function buildTools(layout: string, bundle: string): Promise<void> {
  await umoci('tag', '--image', `${layout}:busybox`, 'tools');
  await umoci('unpack', '--image', `${layout}:tools`, bundle);
  const rootfs = join(bundle, 'rootfs');
  await mkdir(join(rootfs, 'usr', 'local', 'bin'), { recursive: true });
  const hello = join(rootfs, 'usr', 'local', 'bin', 'hello');
  await writeFile(hello, '#!/bin/sh\necho hello from tools\n');
  await chmod(hello, 0o755);
  await writeFile(join(rootfs, 'etc', 'tools-version'), 'tools 1.0\n');
  await umoci('repack', '--image', `${layout}:tools`, bundle);
  await umoci(
    'config',
    '--image',
    `${layout}:tools`,
    '--config.cmd',
    '/usr/local/bin/hello',
    '--config.label',
    'org.example.name=tools',
  );
}

async function buildLayout(peer: StartingPeer): Promise<LayoutData> {
  await requireCommand('umoci', 'umoci');
  const busybox = await requireCommand('busybox', 'busybox-static');
  const layout = join(peer.dir, 'oci');
  await umoci('init', '--layout', layout);
  await buildBusybox(layout, join(peer.dir, 'bundle-busybox'), busybox);
  await buildTools(layout, join(peer.dir, 'bundle-tools'));
  await umoci('gc', '--layout', layout);
  await rm(join(peer.dir, 'bundle-busybox'), { recursive: true });
  await rm(join(peer.dir, 'bundle-tools'), { recursive: true });
  return { layout };
}

async function writeAuthFile(dir: string, registry: RegistryPeer): Promise<string[]> {
  if (registry.username === undefined || registry.password === undefined) {
    return [];
  }
  const file = join(dir, 'auth.json');
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
  await writeFile(file, JSON.stringify({ auths: { [registry.url]: { auth } } }), { mode: 0o600 });
  // An auth file rather than --dest-creds keeps the password out of command lines and errors.
  return ['--dest-authfile', file];
}

function fixtureImage(registry: RegistryPeer, layoutTag: string, repository: string, tag: string) {
  return { layoutTag, repository, tag, reference: `${registry.url}/${repository}:${tag}` };
}

/**
 * pushFixtureImages builds the umoci fixture images once per run and pushes them with skopeo to
 * `registry` as `busybox:latest` and `tools:1.0`, with the registry's credentials if it has any.
 * Pushing again is harmless, so every test file may call it.
 */
export async function pushFixtureImages(registry: RegistryPeer): Promise<FixtureImages> {
  await requireCommand('skopeo', 'skopeo');
  const { data } = await ensurePeer<LayoutData>('fixture-images', {
    isHealthy: async () => true,
    start: buildLayout,
  });
  const images: FixtureImages = {
    layout: data.layout,
    busybox: fixtureImage(registry, 'busybox', 'busybox', 'latest'),
    tools: fixtureImage(registry, 'tools', 'tools', '1.0'),
  };
  const authDir = await mkdtemp(join(tmpdir(), 'regtool-skopeo-'));
  try {
    const authArgs = await writeAuthFile(authDir, registry);
    for (const image of [images.busybox, images.tools]) {
      const source = `oci:${data.layout}:${image.layoutTag}`;
      const destination = `docker://${image.reference}`;
      await execa('skopeo', [
        'copy',
        '-q',
        '--dest-tls-verify=false',
        ...authArgs,
        source,
        destination,
      ]);
    }
  } finally {
    await rm(authDir, { recursive: true, force: true });
  }
  return images;
}
