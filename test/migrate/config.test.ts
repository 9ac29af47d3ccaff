import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { configPath, loadConfig } from '../../src/cli/config.js';
import { UsageError } from '../../src/core/errors.js';
import { openStore } from '../../src/stores/open-store.js';
import { fixtureImages } from '../s3/s3-helpers.js';

async function configHome(content: unknown): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(tmpdir(), 'regtool-config-'));
  await mkdir(join(home, 'regtool'));
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  await writeFile(join(home, 'regtool', 'config.json'), text);
  return { XDG_CONFIG_HOME: home };
}

describe('the configuration file', () => {
  it('lives under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/regtool/config.json');
    expect(configPath({})).toMatch(/\/\.config\/regtool\/config\.json$/);
  });

  it('is optional', () => {
    const loaded = loadConfig({ XDG_CONFIG_HOME: '/nonexistent-regtool' });
    expect(loaded.exists).toBe(false);
    expect(loaded.config.stores).toEqual({});
  });

  it('names stores of every type', async () => {
    const env = await configHome({
      stores: {
        s3: {
          type: 's3',
          bucket: 'bucket',
          prefix: 'p',
          endpoint: 'http://127.0.0.1:7480',
          region: 'us-east-1',
          layout: 'oci',
        },
        local: { type: 'dir', path: '/data', layout: 'registry' },
        hub: { type: 'registry', host: '127.0.0.1:5000', prefix: 'team' },
        tape: { type: 'archive', path: '/backup/images.tar' },
      },
    });
    expect(Object.keys(loadConfig(env).config.stores).sort()).toEqual([
      'hub',
      'local',
      's3',
      'tape',
    ]);
  });

  it('refuses credentials, unknown keys and bad JSON without echoing values', async () => {
    const secret = 'not-to-be-printed-anywhere';
    const withSecret = await configHome({
      stores: { s3: { type: 's3', bucket: 'bucket', secretAccessKey: secret } },
    });
    expect(() => loadConfig(withSecret)).toThrow(UsageError);
    expect(() => loadConfig(withSecret)).toThrow(/secretAccessKey/);
    expect(() => loadConfig(withSecret)).not.toThrow(new RegExp(secret));
    expect(() => loadConfig(withSecret)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );

    const broken = await configHome('{"stores": ');
    expect(() => loadConfig(broken)).toThrow(/not valid JSON/);
    const badLayout = await configHome({
      stores: { x: { type: 'dir', path: '/d', layout: 'zip' } },
    });
    expect(() => loadConfig(badLayout)).toThrow(/stores\.x\.layout/);
  });

  it('opens a named store, and says where to name an unknown one', async () => {
    const env = await configHome({ stores: { fixtures: { type: 'dir', path: fixtureImages } } });
    const config = loadConfig(env);
    const store = await openStore({ kind: 'named', name: 'fixtures' }, { mode: 'read', config });
    expect(store.location).toBe(`dir:${fixtureImages}`);
    await expect(
      openStore({ kind: 'named', name: 'elsewhere' }, { mode: 'read', config }),
    ).rejects.toThrow(/no store is named "elsewhere" in .*config\.json/);
  });
});
