import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { MediaType } from '../../src/core/media-types.js';
import { RegistryStore } from '../../src/stores/registry/registry-store.js';
import {
  proxyClosingAfterConnect,
  proxyNeverAnsweringConnect,
  type FakeProxy,
} from './fake-proxies.js';
import { sha256, startFakeRegistry, type FakeRegistry } from './fake-registry.js';

const fastRetry = { attempts: 2, baseDelayMs: 10, maxDelayMs: 100 };
const bytes = Buffer.from('a layer');
const descriptor = { mediaType: MediaType.ociLayer, digest: sha256(bytes), size: bytes.length };

describe('proxies that fail the CONNECT tunnel', () => {
  let fake: FakeRegistry;
  let proxy: FakeProxy | undefined;

  beforeAll(async () => {
    fake = await startFakeRegistry();
    fake.blobs.set(descriptor.digest, bytes);
  });
  afterEach(() => proxy?.close());
  afterAll(() => fake.close());

  /** The environment a command run behind the proxy sees, with a user and password in it. */
  function behind(started: FakeProxy): NodeJS.ProcessEnv {
    const url = started.url.replace('//', '//someone:s3cret@');
    return { HTTPS_PROXY: url, HTTP_PROXY: url, NO_PROXY: '' };
  }

  async function hasBlob(options: object) {
    const store = await RegistryStore.open(
      { host: fake.host, prefix: '' },
      { retry: fastRetry, ...options },
    );
    try {
      return await store.hasBlob(`${fake.host}/r`, descriptor);
    } finally {
      await store.abort();
    }
  }

  it('gives up on a proxy that closes each tunnel, naming the proxy', async () => {
    proxy = await proxyClosingAfterConnect();
    const failure = await hasBlob({ env: behind(proxy) }).catch((error: unknown) => error);

    expect(failure).toMatchObject({ code: 'REGISTRY_UNREACHABLE', exitCode: 7 });
    const { message, hint } = failure as Error & { hint: string };
    expect(message).toContain(`from the proxy ${proxy.url}`);
    expect(hint).toContain(proxy.url);
    expect(`${message} ${hint}`).not.toContain('s3cret');
    // HTTPS, then plain HTTP (a loopback host): each tried as often as the retry policy says.
    expect(proxy.connects).toBe(2 * fastRetry.attempts);
  }, 10_000);

  it('gives up on a proxy that never answers the CONNECT after the connect timeout', async () => {
    proxy = await proxyNeverAnsweringConnect();
    const started = Date.now();
    const failure = await hasBlob({ env: behind(proxy), connectTimeoutMs: 200 }).catch(
      (error: unknown) => error,
    );

    expect(failure).toMatchObject({ code: 'REGISTRY_UNREACHABLE', exitCode: 7 });
    expect((failure as Error).message).toContain(`UND_ERR_CONNECT_TIMEOUT from the proxy`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(proxy.connects).toBe(2 * fastRetry.attempts);
    await expect.poll(() => proxy!.open).toBe(0);
  }, 10_000);

  it('stops waiting for a tunnel as soon as the command is aborted', async () => {
    proxy = await proxyNeverAnsweringConnect();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const failure = await hasBlob({ env: behind(proxy), signal: controller.signal }).catch(
      (error: unknown) => error,
    );

    expect(failure).toMatchObject({ code: 'INTERRUPTED', exitCode: 130 });
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect.poll(() => proxy!.open).toBe(0);
  }, 10_000);
});
