import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { MediaType } from '../../src/core/media-types.js';
import { parseReference } from '../../src/core/reference.js';
import { RegistryStore } from '../../src/stores/registry/registry-store.js';
import { makeConfig, makeTar, writeTemp } from '../archive/build.js';
import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';
import { pushFixtureImages, startRegistry, type RegistryPeer } from '../peers/index.js';

/** The manifest digest skopeo sees, the independent check of what regtool wrote or read. */
async function skopeoDigest(reference: string, creds?: string): Promise<string> {
  const auth = creds ? ['--creds', creds] : [];
  const { stdout } = await execa('skopeo', [
    'inspect',
    '--tls-verify=false',
    ...auth,
    '--format',
    '{{.Digest}}',
    `docker://${reference}`,
  ]);
  return stdout.trim();
}

function credsOf(registry: RegistryPeer): string {
  return `${registry.username}:${registry.password}`;
}

/** A home of its own for each test: local store and Docker config. */
function isolatedEnv(): Record<string, string> {
  const home = tempDir();
  return { REGTOOL_HOME: join(home, 'regtool'), DOCKER_CONFIG: join(home, 'docker'), HOME: home };
}

let open: RegistryPeer;

beforeAll(async () => {
  open = await startRegistry({ auth: 'none' });
  await pushFixtureImages(open);
});

describe('against an open Distribution registry', () => {
  it('pulls what skopeo pushed, digests unchanged, and pushes it back under a prefix', async () => {
    const env = isolatedEnv();
    const name = `${open.url}/tools:1.0`;
    const pulled = await runRegtool(['--json', 'pull', name], { env });
    expect(pulled.stderr).toBe('');
    expect(JSON.parse(pulled.stdout).images[0].digest).toBe(await skopeoDigest(name));

    const pushed = await runRegtool(['push', name, '--to', `registry://${open.url}/pushed`], {
      env,
    });
    expect(pushed.exitCode).toBe(0);
    expect(await skopeoDigest(`${open.url}/pushed/tools:1.0`)).toBe(await skopeoDigest(name));
  });

  it('pushes images that podman pulls', async () => {
    const env = isolatedEnv();
    await runRegtool(['pull', `${open.url}/busybox:latest`], { env });
    const pushed = await runRegtool(
      ['push', `${open.url}/busybox:latest`, '--to', `registry://${open.url}/for-podman`],
      { env },
    );
    expect(pushed.exitCode).toBe(0);
    const root = tempDir();
    // prettier-ignore
    await execa('podman', [
      '--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs',
      'pull', '-q', '--tls-verify=false', `${open.url}/for-podman/busybox:latest`,
    ], { env: { ...process.env, DOCKER_CONFIG: undefined }, extendEnv: false });
  });

  it('copies with nothing to do in one manifest request to the destination', async () => {
    const env = isolatedEnv();
    const args = ['copy', `${open.url}/tools:1.0`, `${open.url}/noop/tools:1.0`];
    expect((await runRegtool(args, { env })).exitCode).toBe(0);
    const again = await runRegtool(['-vv', ...args], { env });
    const toDestination = again.stderr
      .split('\n')
      .filter(
        (line) => /^(GET|HEAD|PUT|POST|PATCH|DELETE) /.test(line) && line.includes('/v2/noop/'),
      );
    expect(toDestination).toEqual([`HEAD http://${open.url}/v2/noop/tools/manifests/1.0`]);
  });

  it('saves from the registry and loads into another prefix with the same digests', async () => {
    const env = isolatedEnv();
    const archive = join(tempDir(), 'images.tar');
    const names = [`${open.url}/busybox:latest`, `${open.url}/tools:1.0`];
    expect(
      (
        await runRegtool(['save', '-o', archive, '--from', `registry://${open.url}`, ...names], {
          env,
        })
      ).exitCode,
    ).toBe(0);
    expect(
      (
        await runRegtool(['load', '-i', archive, '--to', `registry://${open.url}/reloaded`], {
          env,
        })
      ).exitCode,
    ).toBe(0);
    for (const repository of ['busybox:latest', 'tools:1.0']) {
      expect(await skopeoDigest(`${open.url}/reloaded/${repository}`)).toBe(
        await skopeoDigest(`${open.url}/${repository}`),
      );
    }
  });

  it('takes images for save from the local store or the registry as --pull says', async () => {
    const env = isolatedEnv();
    const archive = join(tempDir(), 'images.tar');
    const name = `${open.url}/busybox:latest`;
    const never = await runRegtool(['save', '-o', archive, '--pull', 'never', name], { env });
    expect(never.exitCode).toBe(3);
    const always = await runRegtool(['--json', 'save', '-o', archive, '--pull', 'always', name], {
      env,
    });
    expect(always.exitCode).toBe(0);
    expect(JSON.parse(always.stdout).images[0].digest).toBe(await skopeoDigest(name));
  });

  it('pushes a multi-platform index whole, pulls one platform, and deletes by digest', async () => {
    const env = isolatedEnv();
    const fixtures = `dir:${join(projectRoot, 'fixtures', 'images')}`;
    const to = `registry://${open.url}/fx`;
    const pushed = await runRegtool(
      ['--json', 'push', 'multi:1.0', '--from', fixtures, '--to', to],
      { env },
    );
    expect(pushed.exitCode).toBe(0);
    const name = `${open.url}/fx/library/multi:1.0`;
    const { stdout: raw } = await execa('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--raw',
      `docker://${name}`,
    ]);
    expect(
      JSON.parse(raw).manifests.map(
        (m: { platform: { architecture: string } }) => m.platform.architecture,
      ),
    ).toEqual(['amd64', 'arm64', 'arm']);
    expect(await skopeoDigest(name)).toBe(JSON.parse(pushed.stdout).images[0].digest);

    const layout = join(tempDir(), 'layout');
    const pulled = await runRegtool(
      ['--json', 'pull', name, '--platform', 'linux/arm64', '--to', `dir:${layout}`],
      { env },
    );
    const arm64 = JSON.parse(raw).manifests.find(
      (m: { platform: { architecture: string } }) => m.platform.architecture === 'arm64',
    );
    expect(JSON.parse(pulled.stdout).images[0].digest).toBe(arm64.digest);

    const removed = await runRegtool(
      ['rm', `${open.url}/fx/library/multi@${arm64.digest}`, '--from', `registry://${open.url}`],
      { env },
    );
    expect(removed.exitCode).toBe(0);
    const gone = await runRegtool(['inspect', `${open.url}/fx/library/multi@${arm64.digest}`], {
      env,
    });
    expect(gone.exitCode).toBe(3);
  });

  it('lists tags, the catalog and search matches', async () => {
    const env = isolatedEnv();
    const tags = await runRegtool(['tags', `${open.url}/tools`], { env });
    expect(tags.stdout.split('\n')).toContain('1.0');
    const ls = await runRegtool(['ls', `registry://${open.url}`], { env });
    expect(ls.stdout).toContain(`${open.url}/busybox:latest`);
    const search = await runRegtool(
      ['--json', 'search', 'too', '--from', `registry://${open.url}`],
      { env },
    );
    expect(JSON.parse(search.stdout).matches).toContainEqual({
      repository: `${open.url}/tools`,
      tags: ['1.0'],
    });
  });

  it('searches past a repository that holds blobs but no tag', async () => {
    const registry = await startRegistry({ auth: 'none' });
    await pushFixtureImages(registry);
    // What a load that failed after its blobs leaves behind.
    const store = await RegistryStore.open({ host: registry.url, prefix: '' }, {});
    const bytes = Buffer.from('a blob and nothing else');
    const descriptor = {
      mediaType: MediaType.ociLayer,
      digest: sha256Digest(bytes),
      size: bytes.length,
    };
    await store.putBlob(`${registry.url}/blobs-only`, descriptor, Readable.from([bytes]));
    await store.close();
    const search = await runRegtool(
      ['--json', 'search', 'o', '--from', `registry://${registry.url}`],
      { env: isolatedEnv() },
    );
    expect(search.exitCode, search.stderr).toBe(0);
    const found = JSON.parse(search.stdout).matches.map(
      (m: { repository: string }) => m.repository,
    );
    expect(found).toContain(`${registry.url}/tools`);
    expect(found).not.toContain(`${registry.url}/blobs-only`);
  });

  it('exits 3 for a missing image and 7 for an unreachable registry', async () => {
    const env = isolatedEnv();
    const missing = await runRegtool(['pull', `${open.url}/tools:no-such-tag`], { env });
    expect(missing.exitCode).toBe(3);
    const unreachable = await runRegtool(['pull', '127.0.0.1:9/tools:1.0'], { env });
    expect(unreachable.exitCode).toBe(7);
    expect(unreachable.stderr).toContain('cannot reach the registry 127.0.0.1:9');
  });
});

/** signImage stores a small signature artifact whose subject is the image. */
async function signImage(store: RegistryStore, name: string): Promise<string> {
  const reference = parseReference(name);
  const subject = await store.resolve(reference);
  const blob = (text: string, mediaType: string) => {
    const bytes = Buffer.from(text);
    return { bytes, descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length } };
  };
  const config = blob('{}', MediaType.ociEmpty);
  const signature = blob('signed by the test', 'application/vnd.example.signature');
  for (const { bytes, descriptor } of [config, signature]) {
    await store.putBlob(reference.repository, descriptor, Readable.from([bytes]));
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: 'application/vnd.example.signature',
      config: config.descriptor,
      layers: [signature.descriptor],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    }),
  );
  const descriptor = {
    mediaType: MediaType.ociManifest,
    digest: sha256Digest(manifest),
    size: manifest.length,
  };
  await store.putManifest(reference.repository, descriptor, manifest);
  return descriptor.digest;
}

describe('referrers', () => {
  it('copies signatures with --referrers through the sha256-<hex> tag fallback', async () => {
    const env = isolatedEnv();
    const signed = `${open.url}/signed/tools:1.0`;
    expect((await runRegtool(['copy', `${open.url}/tools:1.0`, signed], { env })).exitCode).toBe(0);
    const store = await RegistryStore.open({ host: open.url, prefix: '' }, {});
    try {
      const signature = await signImage(store, signed);
      const copied = `${open.url}/signed-copy/tools:1.0`;
      const result = await runRegtool(['copy', signed, copied, '--referrers'], { env });
      expect(result.exitCode).toBe(0);
      const root = await store.resolve(parseReference(copied));
      const referrers = await store.referrers(`${open.url}/signed-copy/tools`, root.digest);
      expect(referrers.map((d) => [d.digest, d.artifactType])).toEqual([
        [signature, 'application/vnd.example.signature'],
      ]);
    } finally {
      await store.close();
    }
  });
});

describe('against a registry with htpasswd auth', () => {
  it('refuses wrong credentials before reading a streamed load', async () => {
    const auth = await startRegistry({ auth: 'htpasswd' });
    const child = execa(
      'node',
      [
        join(projectRoot, 'bin/regtool'),
        'load',
        '-i',
        '-',
        '--to',
        `registry://${auth.url}/early`,
        '--creds',
        `${auth.username}:wrong`,
      ],
      { reject: false, env: { NO_COLOR: '1', ...isolatedEnv() } },
    );
    // The stream's writer has not finished (docker save writes manifest.json last).
    child.stdin!.write(
      makeTar([{ path: 'l/layer.tar', data: randomBytes(1 << 20) }]).subarray(0, 1 << 19),
    );
    const result = await child;
    child.stdin!.destroy();
    expect(result.exitCode, String(result.stderr)).toBe(4);
    expect(String(result.stderr)).toContain('regtool login');
  }, 30_000);

  it('exits 4 without credentials, then logs in, copies, and logs out', async () => {
    const auth = await startRegistry({ auth: 'htpasswd' });
    const env = isolatedEnv();
    const target = `${auth.url}/tools:copied`;
    const refused = await runRegtool(['copy', `${open.url}/tools:1.0`, target], { env });
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain('regtool login');
    expect(refused.stderr).not.toContain(auth.password!);

    const wrong = await runRegtool(['login', auth.url, '-u', auth.username!, '--password-stdin'], {
      env,
      input: 'wrong',
    });
    expect(wrong.exitCode).toBe(4);
    const login = await runRegtool(['login', auth.url, '-u', auth.username!, '--password-stdin'], {
      env,
      input: `${auth.password}\n`,
    });
    expect(login.exitCode).toBe(0);
    const config = join(env.DOCKER_CONFIG!, 'config.json');
    expect((await stat(config)).mode & 0o777).toBe(0o600);

    expect((await runRegtool(['copy', `${open.url}/tools:1.0`, target], { env })).exitCode).toBe(0);
    expect(await skopeoDigest(target, credsOf(auth))).toBe(
      await skopeoDigest(`${open.url}/tools:1.0`),
    );

    expect((await runRegtool(['logout', auth.url], { env })).exitCode).toBe(0);
    expect((await runRegtool(['tags', `${auth.url}/tools`], { env })).exitCode).toBe(4);
  });
});

describe('against a registry with token auth', () => {
  it('pushes and pulls with bearer tokens for the right scopes', async () => {
    const tokens = await startRegistry({ auth: 'token' });
    const env = isolatedEnv();
    const target = `${tokens.url}/team/tools:1.0`;
    const creds = ['--creds', credsOf(tokens)];
    expect(
      (await runRegtool(['copy', `${open.url}/tools:1.0`, target, ...creds], { env })).exitCode,
    ).toBe(0);
    expect(await skopeoDigest(target, credsOf(tokens))).toBe(
      await skopeoDigest(`${open.url}/tools:1.0`),
    );
    // A second repository of the same registry gets the layers by cross-repository mount.
    const mounted = await runRegtool(
      ['--json', 'copy', target, `${tokens.url}/other/tools:1.0`, ...creds],
      { env },
    );
    expect(JSON.parse(mounted.stdout).blobsMoved).toBe(0);
    const pulled = await runRegtool(['--json', 'pull', target, ...creds], { env });
    expect(JSON.parse(pulled.stdout).images[0].digest).toBe(
      await skopeoDigest(target, credsOf(tokens)),
    );
    // Each side may have credentials of its own: the token registry's are refused by htpasswd's.
    const htpasswd = await startRegistry({ auth: 'htpasswd' });
    const both = ['--from-creds', credsOf(tokens), '--to-creds', credsOf(htpasswd)];
    const across = await runRegtool(['copy', target, `${htpasswd.url}/across/tools:1.0`, ...both], {
      env,
    });
    expect(across.exitCode).toBe(0);
    const refused = await runRegtool(['pull', target, '--creds', 'regtool-test:wrong'], { env });
    expect(refused.exitCode).toBe(4);
  });
});

describe('many blobs at once', () => {
  it('loads with --jobs 64, prints no listener warning and names where each image went', async () => {
    const items: Array<{ path: string; data: Buffer | string }> = [];
    const manifest = [];
    for (let i = 0; i < 14; i += 1) {
      const layer = makeTar([{ path: `f${i}.bin`, data: randomBytes(1 << 20) }]);
      const config = makeConfig([sha256Digest(layer)]);
      items.push({ path: `l${i}.tar`, data: layer }, { path: `c${i}.json`, data: config });
      manifest.push({ Config: `c${i}.json`, RepoTags: [`jobs/i${i}:1`], Layers: [`l${i}.tar`] });
    }
    const archive = writeTemp(
      'jobs.tar',
      makeTar([{ path: 'manifest.json', data: JSON.stringify(manifest) }, ...items]),
    );
    const loaded = await runRegtool(
      ['load', '-i', archive, '--jobs', '64', '--to', `registry://${open.url}/jobs`],
      { env: isolatedEnv() },
    );
    expect(loaded.exitCode).toBe(0);
    expect(loaded.stderr).not.toContain('MaxListenersExceededWarning');
    // Each image is reported by the name it has where it went.
    expect(loaded.stdout).toContain(`Loaded image: ${open.url}/jobs/jobs/i0:1 (`);
  });
});
