import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';

import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MediaType } from '../../src/core/media-types.js';
import { RegistryStore } from '../../src/stores/registry/registry-store.js';
import { tempDir } from '../helpers/cli.js';
import { listen, sha256, startFakeRegistry, type FakeRegistry } from './fake-registry.js';

const fastRetry = { attempts: 2, baseDelayMs: 10, maxDelayMs: 100 };
const bytes = Buffer.from('a layer');
const descriptor = { mediaType: MediaType.ociLayer, digest: sha256(bytes), size: bytes.length };

describe('TLS', () => {
  let fake: FakeRegistry;
  let caFile: string;
  let certsDir: string;

  beforeAll(async () => {
    const dir = tempDir();
    const key = join(dir, 'key.pem');
    caFile = join(dir, 'cert.pem');
    // prettier-ignore
    await execa('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
    ]);
    fake = await startFakeRegistry({
      key: await readFile(key, 'utf8'),
      cert: await readFile(caFile, 'utf8'),
    });
    fake.blobs.set(descriptor.digest, bytes);
    certsDir = tempDir();
    await mkdir(join(certsDir, fake.host));
    await copyFile(caFile, join(certsDir, fake.host, 'ca.crt'));
  });
  afterAll(() => fake.close());

  async function hasBlob(options: object) {
    const store = await RegistryStore.open(
      { host: fake.host, prefix: '' },
      { retry: fastRetry, certsDir: tempDir(), ...options },
    );
    try {
      return await store.hasBlob(`${fake.host}/r`, descriptor);
    } finally {
      await store.close();
    }
  }

  it('refuses an unknown CA with exit 7 and a hint', async () => {
    const failure = await hasBlob({}).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'TLS_FAILED', exitCode: 7 });
    expect((failure as Error & { hint: string }).hint).toMatch(/--ca-cert/);
  });

  it('trusts --ca-cert, the certs.d directory, or --insecure', async () => {
    expect(await hasBlob({ caCert: caFile })).toBe(true);
    expect(await hasBlob({ certsDir })).toBe(true);
    expect(await hasBlob({ insecure: true })).toBe(true);
  });
});

describe('HTTP proxies', () => {
  let fake: FakeRegistry;
  const proxied: string[] = [];
  const proxy = createServer((request, response) => {
    proxied.push(request.url!);
    const target = new URL(request.url!);
    const forward = httpRequest(
      target,
      { method: request.method, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(forward);
  });
  proxy.on('connect', (request, socket) => {
    proxied.push(`CONNECT ${request.url}`);
    const [host, port] = request.url!.split(':');
    const upstream = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const saved = { ...process.env };

  beforeAll(async () => {
    fake = await startFakeRegistry();
    fake.blobs.set(descriptor.digest, bytes);
    process.env.HTTP_PROXY = `http://${await listen(proxy)}`;
    process.env.HTTPS_PROXY = process.env.HTTP_PROXY;
  });
  afterAll(async () => {
    process.env = saved;
    proxy.close();
    await fake.close();
  });

  it('sends requests through HTTP_PROXY, and straight to hosts NO_PROXY names', async () => {
    delete process.env.NO_PROXY;
    const viaProxy = await RegistryStore.open(
      { host: fake.host, prefix: '' },
      { retry: fastRetry },
    );
    expect(await viaProxy.hasBlob(`${fake.host}/r`, descriptor)).toBe(true);
    await viaProxy.close();
    expect(proxied.some((line) => line.includes(fake.host))).toBe(true);

    proxied.length = 0;
    process.env.NO_PROXY = '127.0.0.1';
    const direct = await RegistryStore.open({ host: fake.host, prefix: '' }, { retry: fastRetry });
    expect(await direct.hasBlob(`${fake.host}/r`, descriptor)).toBe(true);
    await direct.close();
    expect(proxied).toEqual([]);
  });
});

describe('unreachable registries', () => {
  it('fails with exit 7 naming the registry', async () => {
    const closed = createServer();
    const host = await listen(closed);
    closed.close();
    const store = await RegistryStore.open({ host, prefix: '' }, { retry: fastRetry });
    await expect(store.hasBlob(`${host}/r`, descriptor)).rejects.toMatchObject({
      code: 'REGISTRY_UNREACHABLE',
      exitCode: 7,
    });
    await store.close();
  });
});
