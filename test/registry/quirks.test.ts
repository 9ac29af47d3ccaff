import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { AuthError, IntegrityError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/media-types.js';
import { parseReference } from '../../src/core/reference.js';
import type { Descriptor } from '../../src/core/schemas.js';
import { redirected } from '../../src/stores/registry/http.js';
import { RegistryStore } from '../../src/stores/registry/registry-store.js';
import { tempDir } from '../helpers/cli.js';
import { listen, sha256, startFakeRegistry, type FakeRegistry } from './fake-registry.js';

const fastRetry = { attempts: 4, baseDelayMs: 10, maxDelayMs: 2000 };
let fake: FakeRegistry;

beforeEach(async () => {
  fake = await startFakeRegistry();
});
afterEach(async () => {
  await fake.close();
});

function open(options: { creds?: string; chunkSize?: number } = {}) {
  return RegistryStore.open({ host: fake.host, prefix: '' }, { retry: fastRetry, ...options });
}

function blobOf(text: string): { bytes: Buffer; descriptor: Descriptor } {
  const bytes = Buffer.from(text);
  return {
    bytes,
    descriptor: { mediaType: MediaType.ociLayer, digest: sha256(bytes), size: bytes.length },
  };
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

function requireBasic(fakeRegistry: FakeRegistry) {
  fakeRegistry.quirks.push((request, response) => {
    if (request.headers.authorization === `Basic ${Buffer.from('u:p').toString('base64')}`)
      return false;
    response.writeHead(401, {
      'www-authenticate': 'BASIC realm="Sonatype Nexus Repository Manager"',
    });
    response.end();
    return true;
  });
}

describe('redirected blob downloads (R1)', () => {
  for (const status of [301, 302, 303, 307, 308]) {
    it(`follows ${status} to another host without Authorization`, async () => {
      const other = createServer((request, response) => {
        if (request.headers.authorization) return void response.writeHead(400).end('auth leaked');
        response.end('layer bytes');
      });
      const otherHost = await listen(other);
      const { descriptor } = blobOf('layer bytes');
      requireBasic(fake);
      fake.quirks.unshift((request, response) => {
        if (!request.url!.includes('/blobs/sha256:')) return false;
        response.writeHead(status, { location: `http://${otherHost}/bucket/object?X-Sig=abc` });
        response.end();
        return true;
      });
      const store = await open({ creds: 'u:p' });
      try {
        expect(await readAll(await store.getBlob(`${fake.host}/a/b`, descriptor))).toBe(
          'layer bytes',
        );
      } finally {
        await store.close();
        other.close();
      }
    });
  }

  it('keeps Authorization on a same-host redirect', async () => {
    const { bytes, descriptor } = blobOf('same host');
    fake.blobs.set(descriptor.digest, bytes);
    requireBasic(fake);
    fake.quirks.push((request, response) => {
      if (!request.url!.startsWith('/v2/a/b/blobs/')) return false;
      response.writeHead(307, { location: `/v2/moved/blobs/${descriptor.digest}` });
      response.end();
      return true;
    });
    const store = await open({ creds: 'u:p' });
    expect(await readAll(await store.getBlob(`${fake.host}/a/b`, descriptor))).toBe('same host');
    const moved = fake.log.find((entry) => entry.line.startsWith('GET /v2/moved/'));
    expect(moved?.authorization).toMatch(/^Basic /);
    await store.close();
  });

  it('never follows HTTPS to plain HTTP', () => {
    const request = {
      method: 'GET' as const,
      url: new URL('https://reg.example/v2/x'),
      authorization: 'Bearer t',
    };
    expect(() => redirected(request, new URL('http://reg.example/v2/x'), 302)).toThrow(
      /plain http/,
    );
  });
});

describe('Basic challenges (R3)', () => {
  it('answers a Nexus BASIC challenge with credentials, and fails with exit 4 without', async () => {
    requireBasic(fake);
    const { bytes, descriptor } = blobOf('basic');
    fake.blobs.set(descriptor.digest, bytes);
    const store = await open({ creds: 'u:p' });
    expect(await store.hasBlob(`${fake.host}/x`, descriptor)).toBe(true);
    await store.close();
    const anonymous = await RegistryStore.open(
      { host: fake.host, prefix: '' },
      { retry: fastRetry, env: { HOME: '/nonexistent' } },
    );
    const failure = await anonymous.hasBlob(`${fake.host}/x`, descriptor).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AuthError);
    expect((failure as AuthError).hint).toMatch(/regtool login/);
    await anonymous.close();
  });
});

describe('Docker-Content-Digest missing or odd (R4)', () => {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: sha256('{}'), size: 2 },
      layers: [],
    }),
  );

  it('computes the digest from the body when HEAD and GET lack the header', async () => {
    fake.manifests.set('1.0', { bytes: manifest, type: MediaType.ociManifest });
    fake.quirks.push((request, response) => {
      if (!request.url!.includes('/manifests/')) return false;
      response.writeHead(200, { 'content-type': MediaType.ociManifest });
      response.end(request.method === 'HEAD' ? undefined : manifest);
      return true;
    });
    const store = await open();
    const descriptor = await store.resolve(parseReference(`${fake.host}/app:1.0`));
    expect(descriptor).toEqual({
      mediaType: MediaType.ociManifest,
      digest: sha256(manifest),
      size: manifest.length,
    });
    await store.close();
  });

  it('fails a manifest push when the registry echoes another digest', async () => {
    fake.quirks.push((request, response) => {
      if (request.method !== 'PUT' || !request.url!.includes('/manifests/')) return false;
      response.writeHead(201, { 'Docker-Content-Digest': sha256('something else') });
      response.end();
      return true;
    });
    const store = await open();
    const descriptor = {
      mediaType: MediaType.ociManifest,
      digest: sha256(manifest),
      size: manifest.length,
    };
    await expect(
      store.putManifest(`${fake.host}/app`, descriptor, manifest),
    ).rejects.toBeInstanceOf(IntegrityError);
    await store.close();
  });
});

describe('chunked uploads (R5)', () => {
  const rangeAnswers: Record<string, (start: number, end: number) => string | undefined> = {
    cumulative: (_start, end) => `0-${end}`,
    'per chunk': (start, end) => `${start}-${end}`,
    'bytes= prefix': (_start, end) => `bytes=0-${end}`,
    'no Range': () => undefined,
  };
  for (const [name, answer] of Object.entries(rangeAnswers)) {
    it(`uploads in chunks when PATCH answers with ${name}`, async () => {
      const parts: Buffer[] = [];
      fake.quirks.push((request, response, body) => {
        const url = new URL(request.url!, 'http://x');
        if (request.method === 'PATCH') {
          const start = parts.reduce((n, p) => n + p.length, 0);
          parts.push(body);
          const range = answer(start, start + body.length - 1);
          response.writeHead(202, {
            location: `upload-next?_state=${parts.length}`,
            ...(range ? { range } : {}),
          });
          return void response.end();
        }
        if (request.method === 'PUT' && url.pathname.includes('/uploads/')) {
          expect(url.searchParams.get('_state')).toBe(String(parts.length));
          const bytes = Buffer.concat([...parts, body]);
          if (sha256(bytes) !== url.searchParams.get('digest'))
            return void response.writeHead(400).end();
          fake.blobs.set(sha256(bytes), bytes);
          return void response.writeHead(201).end();
        }
        return false;
      });
      const { bytes, descriptor } = blobOf('0123456789abcdefghijklmnopqrstuvwxyz!');
      const store = await open({ chunkSize: 10 });
      await store.putBlob(`${fake.host}/up/load`, descriptor, Readable.from([bytes]));
      // The first chunk, then the rest in one streamed PATCH.
      expect(parts.map((part) => part.length)).toEqual([10, bytes.length - 10]);
      expect(fake.blobs.get(descriptor.digest)).toEqual(bytes);
      await store.close();
    });
  }

  it('never completes an upload whose bytes disagree with the digest', async () => {
    const { descriptor } = blobOf('the real content....');
    const store = await open({ chunkSize: 8 });
    const upload = store.putBlob(
      `${fake.host}/up`,
      descriptor,
      Readable.from([Buffer.from('corrupt content.....')]),
    );
    await expect(upload).rejects.toBeInstanceOf(IntegrityError);
    expect(fake.blobs.size).toBe(0);
    expect(fake.log.some((entry) => entry.line.startsWith('PUT'))).toBe(false);
    await store.close();
  });
});

describe('upload style fallbacks (R6)', () => {
  it('uploads monolithically when PATCH is refused with 400 HTML', async () => {
    fake.quirks.push((request, response) => {
      if (request.method !== 'PATCH') return false;
      response.writeHead(400, { 'content-type': 'text/html' }).end('<html>no</html>');
      return true;
    });
    const { bytes, descriptor } = blobOf('a blob bigger than one chunk of eight');
    const store = await open({ chunkSize: 8 });
    await store.putBlob(`${fake.host}/mono`, descriptor, Readable.from([bytes]));
    expect(fake.blobs.get(descriptor.digest)).toEqual(bytes);
    await store.close();
  });

  it('uploads in chunks when the final PUT refuses a body', async () => {
    fake.quirks.push((request, response, body) => {
      if (request.method !== 'PUT' || !request.url!.includes('/uploads/') || body.length === 0)
        return false;
      response.writeHead(400).end('{"errors":[{"code":"BLOB_UPLOAD_INVALID"}]}');
      return true;
    });
    const { bytes, descriptor } = blobOf('small');
    const store = await open();
    await store.putBlob(`${fake.host}/chunky`, descriptor, Readable.from([bytes]));
    expect(fake.blobs.get(descriptor.digest)).toEqual(bytes);
    expect(fake.log.filter((entry) => entry.line.startsWith('PATCH'))).toHaveLength(1);
    await store.close();
  });
});

describe('retries', () => {
  it('waits as long as Retry-After says after a 429', async () => {
    let refused = 0;
    const { bytes, descriptor } = blobOf('rate limited');
    fake.blobs.set(descriptor.digest, bytes);
    fake.quirks.push((request, response) => {
      if (request.method !== 'HEAD' || refused > 0) return false;
      refused += 1;
      response.writeHead(429, { 'retry-after': '1' }).end();
      return true;
    });
    const store = await open();
    const started = Date.now();
    expect(await store.hasBlob(`${fake.host}/r`, descriptor)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    await store.close();
  });

  it('retries 5xx answers and gives up with exit 7 when they persist', async () => {
    let failures = 0;
    const { bytes, descriptor } = blobOf('flaky');
    fake.blobs.set(descriptor.digest, bytes);
    fake.quirks.push((request, response) => {
      if (request.method !== 'HEAD' || failures >= 2) return false;
      failures += 1;
      response.writeHead(503).end();
      return true;
    });
    const store = await open();
    expect(await store.hasBlob(`${fake.host}/r`, descriptor)).toBe(true);
    fake.quirks.push((_request, response) => void response.writeHead(502).end());
    failures = 0;
    fake.quirks.reverse();
    const failure = await store.hasBlob(`${fake.host}/r`, descriptor).catch((e: unknown) => e);
    expect((failure as { exitCode?: number }).exitCode).toBe(7);
    await store.close();
  });

  for (const rangeAnswer of [206, 200]) {
    it(`resumes a blob after a connection reset (Range answered ${rangeAnswer})`, async () => {
      const { bytes, descriptor } = blobOf('x'.repeat(50_000) + 'y'.repeat(50_000));
      let resets = 0;
      fake.quirks.push((request, response) => {
        if (request.method !== 'GET' || !request.url!.includes('/blobs/')) return false;
        if (resets === 0) {
          resets += 1;
          response.writeHead(200, { 'content-length': bytes.length });
          response.write(bytes.subarray(0, 30_000), () => response.socket?.destroy());
          return true;
        }
        const start = Number(/bytes=(\d+)-/.exec(request.headers.range ?? '')?.[1] ?? 0);
        if (rangeAnswer === 200) return void response.writeHead(200).end(bytes);
        response.writeHead(206, {
          'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}`,
        });
        return void response.end(bytes.subarray(start));
      });
      const store = await open();
      const text = await readAll(await store.getBlob(`${fake.host}/r`, descriptor));
      expect(text).toBe(bytes.toString());
      expect(fake.log.filter((entry) => entry.line.startsWith('GET /v2/r/blobs'))).toHaveLength(2);
      await store.close();
    });
  }
});

describe('bearer tokens (R2, R3)', () => {
  /**
   * A fake whose token endpoint records its queries and answers with `access_token` only; the
   * token names its scopes, and the registry takes only tokens that `accepts`.
   */
  function requireBearer(
    challenge: (realm: string) => string,
    queries: URLSearchParams[],
    accepts: (token: string) => boolean = () => true,
  ) {
    fake.quirks.push((request, response) => {
      const url = new URL(request.url!, 'http://x');
      if (url.pathname === '/token') {
        queries.push(url.searchParams);
        const token = `tok ${url.searchParams.getAll('scope').join(' ')}`;
        return void response.end(JSON.stringify({ access_token: token, expires_in: 300 }));
      }
      const token = /^Bearer (.*)$/.exec(request.headers.authorization ?? '')?.[1];
      if (token !== undefined && accepts(token)) return false;
      response.writeHead(401, { 'www-authenticate': challenge(`http://${fake.host}/token`) });
      return void response.end();
    });
  }

  it('sends the challenge scope intact and omits a service the challenge lacks', async () => {
    const queries: URLSearchParams[] = [];
    const challenge = (realm: string) => `Bearer realm="${realm}",scope="repository:a/b:pull,push"`;
    requireBearer(challenge, queries, (token) => token.includes('a/b:pull,push'));
    const { bytes, descriptor } = blobOf('bearer');
    fake.blobs.set(descriptor.digest, bytes);
    const store = await open();
    expect(await store.hasBlob(`${fake.host}/a/b`, descriptor)).toBe(true);
    expect(await store.hasBlob(`${fake.host}/a/b`, descriptor)).toBe(true);
    const last = queries.at(-1)!;
    expect(last.getAll('scope')).toContain('repository:a/b:pull,push');
    expect(last.has('service')).toBe(false);
    // The token is cached: the second request needed no new one.
    expect(queries.length).toBe(2);
    expect(fake.log.filter((entry) => entry.line.startsWith('HEAD'))).toHaveLength(3);
    await store.close();
  });

  it('asks for pull and push scopes, and the source repository for a mount', async () => {
    const queries: URLSearchParams[] = [];
    requireBearer((realm) => `bearer realm="${realm}",service="fake"`, queries);
    const { descriptor } = blobOf('mounted');
    fake.quirks.push((request, response) => {
      if (!request.url!.includes('mount=')) return false;
      return void response.writeHead(201).end();
    });
    const store = await open();
    expect(
      await store.mountBlob(`${fake.host}/to/repo`, descriptor, `${fake.host}/from/repo`),
    ).toBe(true);
    expect(queries.at(-1)!.getAll('scope').sort()).toEqual([
      'repository:from/repo:pull',
      'repository:to/repo:pull,push',
    ]);
    expect(queries.at(-1)!.get('service')).toBe('fake');
    await store.close();
  });

  it('uploads instead when the mount is refused for want of access to the source repository', async () => {
    // Like a token server that will not grant pull on the repository mounted from.
    fake.quirks.push((request, response) => {
      if (!request.url!.includes('mount=')) return false;
      response.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' });
      return void response.end();
    });
    const { bytes, descriptor } = blobOf('not mounted');
    const store = await open({ creds: 'u:p' });
    expect(
      await store.mountBlob(`${fake.host}/to/repo`, descriptor, `${fake.host}/from/repo`),
    ).toBe(false);
    await store.putBlob(`${fake.host}/to/repo`, descriptor, Readable.from([bytes]));
    expect(fake.blobs.get(descriptor.digest)).toEqual(bytes);
    await store.close();
  });

  it('trades an identity token from the Docker config with the OAuth2 refresh grant', async () => {
    const forms: URLSearchParams[] = [];
    fake.quirks.push((request, response, body) => {
      if (request.url === '/token' && request.method === 'POST') {
        forms.push(new URLSearchParams(body.toString()));
        return void response.end(JSON.stringify({ access_token: 'oauth' }));
      }
      if (request.headers.authorization === 'Bearer oauth') return false;
      const realm = `http://${fake.host}/token`;
      response.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="svc"` });
      return void response.end();
    });
    const config = tempDir();
    const auths = { [fake.host]: { identitytoken: 'refresh-me' } };
    await writeFile(join(config, 'config.json'), JSON.stringify({ auths }));
    const { bytes, descriptor } = blobOf('oauth');
    fake.blobs.set(descriptor.digest, bytes);
    const store = await RegistryStore.open(
      { host: fake.host, prefix: '' },
      { retry: fastRetry, env: { DOCKER_CONFIG: config } },
    );
    expect(await store.hasBlob(`${fake.host}/o/r`, descriptor)).toBe(true);
    expect(Object.fromEntries(forms[0]!)).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-me',
      service: 'svc',
      scope: 'repository:o/r:pull',
    });
    await store.close();
  });
});

/** endless answers a manifest request with `status` and a body that never ends; HEAD gets none. */
function endless(status: number, head: string): { sent: () => number } {
  let sent = 0;
  fake.quirks.push((request, response) => {
    if (!request.url!.includes('/manifests/')) return false;
    response.writeHead(status, { 'content-type': MediaType.ociManifest });
    if (request.method === 'HEAD') return void response.end();
    response.write(head);
    const chunk = Buffer.alloc(64 * 1024, ' ');
    const more = () => {
      while (!response.destroyed && response.write(chunk)) sent += chunk.length;
      if (!response.destroyed) response.once('drain', more);
    };
    more();
  });
  return { sent: () => sent };
}

describe('answers without end', () => {
  const cases = [
    { what: 'an error body, of which only the head is read', status: 403, code: 'ACCESS_DENIED' },
    { what: 'a manifest, read up to its bound', status: 200, code: 'REGISTRY_ANSWER_TOO_LARGE' },
  ];
  for (const { what, status, code } of cases) {
    it(`stops reading ${what}`, async () => {
      const server = endless(status, '{"errors":[{"code":"DENIED","message":"no');
      const store = await open();
      await expect(store.resolve(parseReference(`${fake.host}/app:1.0`))).rejects.toMatchObject({
        code,
      });
      expect(server.sent()).toBeLessThan(64 * 1024 * 1024);
      await store.close();
    });
  }
});
