import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';

import { describe, expect, it } from 'vitest';

import {
  libtrustKeyId,
  pushFixtureImages,
  s3Request,
  signRegistryToken,
  startCeph,
  startPodmanService,
  startRegistry,
  type RegistryPeer,
} from './index.js';

function basic(registry: RegistryPeer): string {
  return `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`;
}

async function fetchToken(registry: RegistryPeer, scope: string, authorization?: string) {
  const url = new URL(registry.token!.realm);
  url.searchParams.set('service', registry.token!.service);
  url.searchParams.set('scope', scope);
  return fetch(url, { headers: authorization === undefined ? {} : { authorization } });
}

async function listTags(registry: RegistryPeer, repository: string, token: string) {
  return fetch(`http://${registry.url}/v2/${repository}/tags/list`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

/** Sends one request to a unix socket API and returns the status and body. */
function socketRequest(socket: string, method: string, path: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ socketPath: socket, method, path }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('registry peer', () => {
  it('starts an open registry once and answers /v2/ with 200', async () => {
    const registry = await startRegistry();
    const again = await startRegistry({ auth: 'none' });

    expect(again.url).toBe(registry.url);
    expect(registry.url).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await fetch(`http://${registry.url}/v2/`)).status).toBe(200);
  });

  it('asks for Basic credentials with htpasswd auth', async () => {
    const registry = await startRegistry({ auth: 'htpasswd' });

    const anonymous = await fetch(`http://${registry.url}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const signedIn = await fetch(`http://${registry.url}/v2/`, {
      headers: { authorization: basic(registry) },
    });
    expect(signedIn.status).toBe(200);
  });
});

describe('token auth registry peer', () => {
  it('sends clients to the token server', async () => {
    const registry = await startRegistry({ auth: 'token' });

    const response = await fetch(`http://${registry.url}/v2/`);
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(`Bearer realm="${registry.token!.realm}"`);
    expect(challenge).toContain(`service="${registry.token!.service}"`);
  });

  it('refuses missing and wrong credentials', async () => {
    const registry = await startRegistry({ auth: 'token' });
    const wrong = `Basic ${Buffer.from(`${registry.username}:wrong`).toString('base64')}`;

    expect((await fetchToken(registry, 'repository:busybox:pull')).status).toBe(401);
    expect((await fetchToken(registry, 'repository:busybox:pull', wrong)).status).toBe(401);
  });

  it('grants the requested scope with a token the registry accepts', async () => {
    const registry = await startRegistry({ auth: 'token' });
    await pushFixtureImages(registry);

    const response = await fetchToken(registry, 'repository:busybox:pull', basic(registry));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ expires_in: 300, issued_at: expect.any(String) });
    expect(body.access_token).toBe(body.token);
    const tags = await listTags(registry, 'busybox', body.token as string);
    expect(tags.status).toBe(200);
    expect(await tags.json()).toEqual({ name: 'busybox', tags: ['latest'] });
  });

  it('accepts a token that names its key by libtrust kid instead of x5c', async () => {
    const registry = await startRegistry({ auth: 'token' });
    await pushFixtureImages(registry);
    const info = registry.token!;
    const certificate = new X509Certificate(await readFile(info.certFile));
    const signer = {
      privateKey: createPrivateKey(await readFile(info.keyFile)),
      certificate,
      keyHint: 'kid' as const,
    };

    const claims = { issuer: info.issuer, service: info.service, subject: 'kid-test' };
    const pull = [{ type: 'repository', name: 'tools', actions: ['pull'] }];
    const token = signRegistryToken(signer, { ...claims, access: pull, lifetimeSeconds: 60 });
    const noAccess = signRegistryToken(signer, { ...claims, access: [], lifetimeSeconds: 60 });

    expect(libtrustKeyId(certificate.publicKey)).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    expect((await listTags(registry, 'tools', token)).status).toBe(200);
    expect((await listTags(registry, 'tools', noAccess)).status).toBe(401);
  });
});

describe('podman service peer', () => {
  it('answers /_ping on its socket', async () => {
    const podman = await startPodmanService();

    expect(podman.dockerHost).toBe(`unix://${podman.socket}`);
    expect(await socketRequest(podman.socket, 'GET', '/_ping')).toEqual({
      status: 200,
      body: 'OK',
    });
  });

  it('pulls over plain HTTP from a registry on a port picked at run time', async () => {
    const [podman, registry] = await Promise.all([startPodmanService(), startRegistry()]);
    const { busybox } = await pushFixtureImages(registry);

    const image = `${registry.url}/${busybox.repository}`;
    const query = `fromImage=${encodeURIComponent(image)}&tag=${busybox.tag}`;
    const pull = await socketRequest(podman.socket, 'POST', `/v1.41/images/create?${query}`);
    expect(pull.status).toBe(200);
    expect(pull.body).not.toMatch(/"error"/);
    const inspect = await socketRequest(
      podman.socket,
      'GET',
      `/v1.41/images/${busybox.reference}/json`,
    );
    expect(inspect.status).toBe(200);
  });
});

describe('ceph peer', () => {
  it('creates a bucket and stores and returns an object over signed S3 requests', async () => {
    const ceph = await startCeph();
    const bucket = `peers-test-${process.pid}`;

    await ceph.createBucket(bucket);
    await ceph.createBucket(bucket);
    const put = await s3Request(ceph, 'PUT', `/${bucket}/greeting.txt`, 'hello from regtool\n');
    expect(put.status).toBe(200);
    const get = await s3Request(ceph, 'GET', `/${bucket}/greeting.txt`);
    expect(get).toMatchObject({ status: 200 });
    expect(get.body.toString()).toBe('hello from regtool\n');
    const unsigned = await fetch(`${ceph.endpoint}/${bucket}/greeting.txt`);
    expect(unsigned.status).toBe(403);
  });
});
