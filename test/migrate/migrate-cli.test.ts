import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { execa } from 'execa';

import { beforeAll, describe, expect, it } from 'vitest';

import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';
import { cliEnv, fixtureImages, newBucket, startS3, type S3Peer } from '../s3/s3-helpers.js';

/** oneBigImage writes an OCI layout holding one image with a 48 MB layer. */
async function oneBigImage(): Promise<string> {
  const dir = tempDir('regtool-big-layout-');
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Buffer) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(dir, 'blobs', 'sha256', hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const layer = await put(randomBytes(48 << 20));
  const config = await put(Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64' })));
  const manifest = await put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    ),
  );
  const entry = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...manifest,
    annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/big:1' },
  };
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [entry] }),
  );
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return dir;
}

function summaryOf(stdout: string) {
  return JSON.parse(stdout) as { counts: Record<string, number>; blobsMoved: number };
}

describe('regtool migrate and regtool config', () => {
  let s3: S3Peer;

  beforeAll(async () => {
    s3 = await startS3();
  }, 120_000);

  it('migrates the local store to a named S3 store with bare names, then does nothing', async () => {
    const bucket = await newBucket(s3, 'cli');
    const xdg = tempDir('regtool-xdg-');
    await mkdir(join(xdg, 'regtool'));
    const entry = { type: 's3', bucket, prefix: 'named', endpoint: s3.endpoint, region: s3.region };
    await writeFile(join(xdg, 'regtool', 'config.json'), JSON.stringify({ stores: { s3: entry } }));
    const env = cliEnv(s3, { REGTOOL_HOME: tempDir('regtool-home-'), XDG_CONFIG_HOME: xdg });
    delete env.AWS_ENDPOINT_URL;
    const strings = env as Record<string, string>;

    const seeded = await runRegtool(
      ['-q', 'migrate', '--from', `dir:${fixtureImages}`, '--to', 'dir'],
      { env: strings },
    );
    expect(seeded.exitCode).toBe(0);

    const first = await runRegtool(['--json', 'migrate', '--from', 'dir', '--to', 's3'], {
      env: strings,
    });
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(summaryOf(first.stdout).counts.moved).toBe(6);

    const again = await runRegtool(['--json', 'migrate', '--from', 'dir', '--to', 's3'], {
      env: strings,
    });
    expect(summaryOf(again.stdout).counts['up-to-date']).toBe(6);
    expect(summaryOf(again.stdout).blobsMoved).toBe(0);

    const listed = await runRegtool(['--json', 'ls', `s3://${bucket}/named`], {
      env: { ...strings, AWS_ENDPOINT_URL: s3.endpoint },
    });
    expect(listed.stdout.match(/"digest"/g)).toHaveLength(6);

    const shown = await runRegtool(['--json', 'config'], { env: strings });
    expect(shown.exitCode).toBe(0);
    const config = JSON.parse(shown.stdout) as { path: string; stores: Record<string, unknown> };
    expect(config.path).toBe(join(xdg, 'regtool', 'config.json'));
    expect(config.stores.s3).toMatchObject({
      address: `s3://${bucket}/named`,
      endpoint: s3.endpoint,
    });
    expect(shown.stdout).not.toContain(s3.secretAccessKey);
    expect(shown.stdout).not.toContain(s3.accessKeyId);
  }, 120_000);

  it('says what to do about an unknown store name and a bad --layout', async () => {
    const env = { XDG_CONFIG_HOME: tempDir('regtool-xdg-') };
    const unknown = await runRegtool(['migrate', '--from', 'dir', '--to', 'backup'], { env });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no store is named "backup"');
    const layout = await runRegtool(
      ['migrate', '--from', 'dir', '--to', 'dir:/tmp/x', '--layout', 'zip'],
      { env },
    );
    expect(layout.exitCode).toBe(2);
  });

  it('exits 130 on Ctrl-C, and a re-run moves only what was missing', async () => {
    const layout = await oneBigImage();
    const bucket = await newBucket(s3, 'cli-interrupt');
    const args = [join(projectRoot, 'bin/regtool'), 'migrate', '-j', '1'];
    args.push('--from', `dir:${layout}`, '--to', `s3://${bucket}`);
    const child = execa('node', args, { env: cliEnv(s3, { NO_COLOR: '1' }), reject: false });
    // The config goes first with -j 1; interrupt while the layer is on its way.
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes(' done (')) resolve();
      });
    });
    child.kill('SIGINT');
    const interrupted = await child;
    expect(interrupted.exitCode).toBe(130);

    const again = await runRegtool(['--json', ...args.slice(1)], {
      env: cliEnv(s3) as Record<string, string>,
    });
    expect(again.exitCode).toBe(0);
    const summary = summaryOf(again.stdout) as ReturnType<typeof summaryOf> & {
      blobsSkipped: number;
    };
    expect(summary.counts.moved).toBe(1);
    expect(summary.blobsMoved).toBe(1);
    expect(summary.blobsSkipped).toBe(1);
    await rm(layout, { recursive: true, force: true });
  }, 120_000);
});
