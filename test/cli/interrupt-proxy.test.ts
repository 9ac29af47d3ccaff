import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startRegistry, type RegistryPeer } from '../peers/index.js';
import { proxyNeverAnsweringConnect, type FakeProxy } from '../registry/fake-proxies.js';
import { projectRoot, tempDir } from '../helpers/cli.js';

describe('Ctrl-C while a proxy keeps the registry waiting', () => {
  let registry: RegistryPeer;
  let proxy: FakeProxy;

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await proxyNeverAnsweringConnect();
  });
  afterAll(() => proxy.close());

  it('stops the command at the first Ctrl-C with exit 130', async () => {
    const target = join(tempDir(), 'target');
    const image = `${registry.url}/waiting/app:1`;
    const child = execa(
      'node',
      [join(projectRoot, 'bin/regtool'), 'copy', image, '--to', `dir:${target}`],
      {
        reject: false,
        timeout: 20_000,
        env: {
          NO_COLOR: '1',
          // Lower-case names win over upper-case ones, so both are set.
          HTTPS_PROXY: proxy.url,
          https_proxy: proxy.url,
          HTTP_PROXY: proxy.url,
          http_proxy: proxy.url,
          NO_PROXY: '',
          no_proxy: '',
        },
      },
    );
    await expect.poll(() => proxy.connects, { timeout: 10_000 }).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const interrupted = Date.now();
    child.kill('SIGINT');
    const result = await child;

    expect(result.exitCode, String(result.stderr)).toBe(130);
    expect(Date.now() - interrupted).toBeLessThan(3_000);
    expect(String(result.stderr)).toContain('INTERRUPTED');
    const temp = join(target, '.regtool-tmp');
    expect(existsSync(temp) ? readdirSync(temp) : []).toEqual([]);
    await expect.poll(() => proxy.open).toBe(0);
  }, 30_000);
});
