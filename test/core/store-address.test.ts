import { describe, expect, it } from 'vitest';

import { RegtoolError } from '../../src/core/errors.js';
import { storeEntrySchema } from '../../src/core/config-schema.js';
import { parseStoreAddress } from '../../src/core/store-address.js';

function failure(text: string): RegtoolError {
  try {
    parseStoreAddress(text);
  } catch (error) {
    return error as RegtoolError;
  }
  throw new Error(`${text} was accepted`);
}

describe('parseStoreAddress', () => {
  it('reads registry and s3 addresses with a prefix', () => {
    expect(parseStoreAddress('registry://127.0.0.1:5151/team/app')).toEqual({
      kind: 'registry',
      host: '127.0.0.1:5151',
      prefix: 'team/app',
    });
    expect(parseStoreAddress('registry://[::1]:5000')).toEqual({
      kind: 'registry',
      host: '[::1]:5000',
      prefix: '',
    });
    expect(parseStoreAddress('s3://my-bucket/Any@Key')).toEqual({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'Any@Key',
    });
  });

  it.each([
    'registry://user:secret@127.0.0.1:5151',
    'registry://user:secret@127.0.0.1:5151/team',
    'registry://user:sec/ret@127.0.0.1:5151',
    'docker://user:secret@127.0.0.1:5151',
    'https://user:secret@127.0.0.1:5151',
  ])('refuses credentials in %s without echoing them', (text) => {
    const error = failure(text);
    expect(error.exitCode).toBe(2);
    expect(error.code).toBe('STORE_INVALID');
    expect(error.message).not.toContain('secret');
    expect(error.message).not.toContain('sec/ret');
    expect(error.hint ?? '').not.toContain('secret');
    if (!text.startsWith('https')) expect(error.hint).toMatch(/regtool login.*--creds/);
  });

  it.each([
    'registry://127.0.0.1:5151/intINT',
    'registry://127.0.0.1:5151/../../x',
    'registry://127.0.0.1:5151/team//app',
    'registry://127.0.0.1:5151/-team',
  ])('refuses the invalid prefix of %s', (text) => {
    const error = failure(text);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('repository prefix');
  });

  it.each([
    'registry://127.0.0.1:99999',
    'registry://127.0.0.1:notaport',
    'registry://127.0.0.1:0',
  ])('refuses the bad port of %s as a usage error', (text) => {
    const error = failure(text);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('not a valid registry host');
  });

  it('asks an s3 address for a bucket, with an s3 example', () => {
    const error = failure('s3://');
    expect(error.message).toContain('needs a bucket');
    expect(error.hint).toContain('s3://my-bucket/images');
  });
});

describe('a registry entry of the configuration file', () => {
  it('takes a host and a prefix by the same rules as an address, echoing neither', () => {
    const ok = storeEntrySchema.safeParse({
      type: 'registry',
      host: '127.0.0.1:5000',
      prefix: '/team/',
    });
    expect(ok.success).toBe(true);
    for (const entry of [
      { type: 'registry', host: 'user:secret@127.0.0.1:5000' },
      { type: 'registry', host: '127.0.0.1:99999' },
      { type: 'registry', host: '127.0.0.1:5000', prefix: '../secret' },
      { type: 'registry', host: '127.0.0.1:5000', prefix: 'intINT' },
    ]) {
      const result = storeEntrySchema.safeParse(entry);
      expect(result.success, JSON.stringify(entry)).toBe(false);
      expect(JSON.stringify(result.error?.issues)).not.toContain('secret');
    }
  });
});
