import { describe, expect, it } from 'vitest';

import { resolveStoreEntry } from '../../src/core/config-schema.js';
import { AuthError, IntegrityError, NotFoundError } from '../../src/core/errors.js';
import {
  blobDataKey,
  layerLinkKey,
  linkContent,
  parseLink,
  parseTagCurrentKey,
  revisionLinkKey,
  tagCurrentKey,
  tagIndexKey,
} from '../../src/stores/s3/registry-paths.js';
import { resolveS3Settings, s3Error } from '../../src/stores/s3/s3-client.js';

const hex = 'ab'.repeat(32);
const digest = `sha256:${hex}`;
const v2 = 'docker/registry/v2';

describe("the Distribution registry's storage paths", () => {
  it('put blobs, links and tags where the registry looks', () => {
    expect(blobDataKey(digest)).toBe(`${v2}/blobs/sha256/ab/${hex}/data`);
    expect(layerLinkKey('library/busybox', digest)).toBe(
      `${v2}/repositories/library/busybox/_layers/sha256/${hex}/link`,
    );
    expect(revisionLinkKey('a/b/c', digest)).toBe(
      `${v2}/repositories/a/b/c/_manifests/revisions/sha256/${hex}/link`,
    );
    expect(tagCurrentKey('app', 'v1.0')).toBe(
      `${v2}/repositories/app/_manifests/tags/v1.0/current/link`,
    );
    expect(tagIndexKey('app', 'v1.0', digest)).toBe(
      `${v2}/repositories/app/_manifests/tags/v1.0/index/sha256/${hex}/link`,
    );
  });

  it('write links as the bare digest: a trailing newline makes the registry answer 500', () => {
    expect(linkContent(digest)).toBe(digest);
    expect(Buffer.byteLength(linkContent(digest))).toBe(71);
  });

  it('read links leniently, and refuse what is no digest', () => {
    expect(parseLink(Buffer.from(`${digest}\n`), 'k')).toBe(digest);
    expect(() => parseLink(Buffer.from('garbage'), 'k')).toThrow(IntegrityError);
  });

  it('find repository and tag in a current link key, nested names included', () => {
    expect(parseTagCurrentKey(tagCurrentKey('team/app/web', '1.0'))).toEqual({
      repository: 'team/app/web',
      tag: '1.0',
    });
    expect(parseTagCurrentKey(layerLinkKey('app', digest))).toBeUndefined();
    expect(parseTagCurrentKey(tagIndexKey('app', '1.0', digest))).toBeUndefined();
  });
});

describe('S3 settings', () => {
  it('take flags and the config entry over the environment, as the AWS CLI reads it', () => {
    const env = { AWS_ENDPOINT_URL: 'http://env:1', AWS_DEFAULT_REGION: 'eu-west-1' };
    expect(resolveS3Settings({ bucket: 'b', prefix: '' }, env)).toMatchObject({
      endpoint: 'http://env:1',
      region: 'eu-west-1',
    });
    const given = { bucket: 'b', prefix: '', endpoint: 'http://flag:2', region: 'r' };
    expect(resolveS3Settings(given, env)).toMatchObject({ endpoint: 'http://flag:2', region: 'r' });
    expect(
      resolveS3Settings({ bucket: 'b', prefix: '' }, { AWS_ENDPOINT_URL_S3: 'http://s3:3' }),
    ).toMatchObject({ endpoint: 'http://s3:3', region: 'us-east-1' });
    expect(resolveS3Settings({ bucket: 'b', prefix: '' }, {}).region).toBeUndefined();
  });

  it('turn SDK failures into errors with a category and a hint', () => {
    const status = (code: number, name: string) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode: code } });
    expect(s3Error(status(404, 'NoSuchBucket'), 'x', 's3://b')).toBeInstanceOf(NotFoundError);
    expect(s3Error(status(403, 'AccessDenied'), 'x', 's3://b')).toBeInstanceOf(AuthError);
    const missing = s3Error(
      Object.assign(new Error('none'), { name: 'CredentialsProviderError' }),
      'x',
      's3://b',
    );
    expect(missing.code).toBe('S3_NO_CREDENTIALS');
    expect(s3Error(new Error('ECONNREFUSED'), 'x', 's3://b').category).toBe('network');
  });
});

describe('named store entries', () => {
  it('resolve to addresses, with the layout and S3 settings they carry', () => {
    expect(
      resolveStoreEntry({
        type: 's3',
        bucket: 'bkt',
        prefix: '/p/q/',
        endpoint: 'http://h:1',
        layout: 'registry',
      }),
    ).toEqual({
      address: { kind: 's3', bucket: 'bkt', prefix: 'p/q' },
      layout: 'registry',
      s3: { endpoint: 'http://h:1', region: undefined, forcePathStyle: undefined },
    });
    expect(resolveStoreEntry({ type: 'registry', host: 'h:5000' }).address).toEqual({
      kind: 'registry',
      host: 'h:5000',
      prefix: '',
    });
  });
});
