import { describe, expect, it } from 'vitest';

import { ExitCode, UsageError } from '../../src/core/errors.js';
import { parseReference, Reference, tryParseReference } from '../../src/core/reference.js';

const hexA = 'a'.repeat(64);
const digestA = `sha256:${hexA}` as const;

/** Asserts that parsing fails the way every bad reference must: a usage error, REFERENCE_INVALID. */
function expectInvalid(input: string): UsageError {
  let caught: unknown;
  try {
    parseReference(input);
  } catch (error) {
    caught = error;
  }
  expect(caught, `"${input}" should be refused`).toBeInstanceOf(UsageError);
  const error = caught as UsageError;
  expect(error.code).toBe('REFERENCE_INVALID');
  expect(error.exitCode).toBe(ExitCode.usage);
  expect(error.message).toContain(input);
  expect(error.hint).toBeTruthy();
  return error;
}

function parts(input: string) {
  const ref = parseReference(input);
  return { domain: ref.domain, path: ref.path, tag: ref.tag, digest: ref.digest };
}

describe('parseReference: case N1', () => {
  it('keeps the case of a host and allows an uppercase tag', () => {
    expect(parts('MyHost.Example.com:5000/ns/img:Tag')).toEqual({
      domain: 'MyHost.Example.com:5000',
      path: 'ns/img',
      tag: 'Tag',
      digest: undefined,
    });
  });

  it('takes an uppercase first component for a host', () => {
    expect(parts('Foo/bar')).toMatchObject({ domain: 'Foo', path: 'bar', tag: 'latest' });
  });

  it('refuses an uppercase repository name', () => {
    expect(expectInvalid('foo/Bar').message).toMatch(/lowercase/);
  });

  it('takes localhost for a host', () => {
    expect(parts('localhost/a')).toMatchObject({ domain: 'localhost', path: 'a', tag: 'latest' });
  });

  it('reads a:5000 as repository a with tag 5000', () => {
    expect(parts('a:5000')).toMatchObject({ domain: 'docker.io', path: 'library/a', tag: '5000' });
  });

  it('reads a digest and adds no default tag', () => {
    const ref = parseReference(`name@${digestA}`);
    expect(ref.digest).toBe(digestA);
    expect(ref.tag).toBeUndefined();
    expect(ref.identifier).toBe(digestA);
    expect(ref.toString()).toBe(`docker.io/library/name@${digestA}`);
  });

  it('puts single names on Docker Hub under library/', () => {
    expect(parseReference('docker.io/alpine').toString()).toBe('docker.io/library/alpine:latest');
  });

  it('treats index.docker.io as docker.io', () => {
    expect(parts('index.docker.io/alpine')).toEqual(parts('docker.io/alpine'));
    expect(parts('index.docker.io/a/b:1')).toEqual(parts('a/b:1'));
  });

  it('allows a 128-character tag and refuses a 129-character one', () => {
    expect(parseReference(`a:${'t'.repeat(128)}`).tag).toHaveLength(128);
    expectInvalid(`a:${'t'.repeat(129)}`);
  });
});

describe('parseReference: defaults and normalization', () => {
  it.each([
    ['busybox', 'docker.io', 'library/busybox', 'latest'],
    ['busybox:1.36', 'docker.io', 'library/busybox', '1.36'],
    ['user/app', 'docker.io', 'user/app', 'latest'],
    ['docker.io/user/app', 'docker.io', 'user/app', 'latest'],
    ['docker.io/library/busybox', 'docker.io', 'library/busybox', 'latest'],
    ['ghcr.io/a/b/c:v1', 'ghcr.io', 'a/b/c', 'v1'],
    ['localhost:5000/a', 'localhost:5000', 'a', 'latest'],
    ['example:5000/a', 'example:5000', 'a', 'latest'],
    ['127.0.0.1:5000/a:x', '127.0.0.1:5000', 'a', 'x'],
    ['[::1]:5000/a:b', '[::1]:5000', 'a', 'b'],
    ['[fe80::1]/a', '[fe80::1]', 'a', 'latest'],
    ['localhost/a:5000', 'localhost', 'a', '5000'],
  ])('%s → %s / %s : %s', (input, domain, path, tag) => {
    expect(parts(input)).toEqual({ domain, path, tag, digest: undefined });
  });

  it('does not add library/ on other registries', () => {
    expect(parseReference('quay.io/alpine').path).toBe('alpine');
    expect(parseReference('localhost/alpine').path).toBe('alpine');
  });

  it('accepts the separators Docker accepts in path components', () => {
    for (const input of ['a.b/c', 'x/a_b', 'x/a__b', 'x/a-b', 'x/a---b', 'x/a.b-c_d']) {
      expect(tryParseReference(input), input).toBeDefined();
    }
  });

  it.each(['x/a___b', 'x/_a', 'x/a_', 'x/a-', 'x/.a', 'x/a..b', 'x//a', 'x/a/', 'a b'])(
    'refuses the path in %s',
    (input) => {
      expectInvalid(input);
    },
  );

  it.each([
    '',
    ':tag',
    'a:',
    'a@',
    '@sha256:' + hexA,
    'a:-tag',
    'a:.tag',
    'a:t@g',
    'host:port/a',
    '-host.com/a',
    'host-.com/a',
    'host.com:/a',
    'Foo',
    'FOO:tag',
    'docker.io/Foo',
  ])('refuses %j', (input) => {
    expectInvalid(input);
  });

  it('keeps both tag and digest, and the digest decides', () => {
    const ref = parseReference(`a:1@${digestA}`);
    expect(ref.tag).toBe('1');
    expect(ref.digest).toBe(digestA);
    expect(ref.identifier).toBe(digestA);
    expect(ref.toString()).toBe(`docker.io/library/a:1@${digestA}`);
  });

  it('accepts sha512 digests and refuses malformed or unknown ones', () => {
    expect(parseReference(`a@sha512:${'b'.repeat(128)}`).digest).toBe(`sha512:${'b'.repeat(128)}`);
    expectInvalid(`a@sha256:${'a'.repeat(63)}`);
    expectInvalid(`a@sha256:${'A'.repeat(64)}`);
    expectInvalid(`a@md5:${'a'.repeat(32)}`);
    expectInvalid(`a@${hexA}`);
    expectInvalid(`a@${digestA}@${digestA}`);
  });

  it('adds no default tag when asked not to', () => {
    expect(parseReference('a', { defaultTag: false }).tag).toBeUndefined();
    expect(parseReference('a', { defaultTag: false }).identifier).toBe('latest');
    expect(parseReference('a:2', { defaultTag: false }).tag).toBe('2');
  });
});

describe('parseReference: image IDs and name length', () => {
  it('refuses a bare 64-digit hex string, as an image ID', () => {
    expect(expectInvalid(hexA).message).toMatch(/image ID/);
  });

  it('accepts 64 hex digits as a name once a tag, digest or namespace shows it is one', () => {
    expect(parseReference(`${hexA}:v1`).path).toBe(`library/${hexA}`);
    expect(parseReference(`${hexA}@${digestA}`).path).toBe(`library/${hexA}`);
    expect(parseReference(`user/${hexA}`).path).toBe(`user/${hexA}`);
    expect(parseReference('a'.repeat(63)).path).toBe(`library/${'a'.repeat(63)}`);
    expect(parseReference('a'.repeat(65)).path).toBe(`library/${'a'.repeat(65)}`);
  });

  it('allows a normalized name of 255 characters and refuses 256', () => {
    const host = 'registry.example.com';
    const fits = `${host}/${'a'.repeat(255 - host.length - 1)}`;
    expect(parseReference(fits).repository).toHaveLength(255);
    expect(parseReference(`${fits}:tag`).repository).toHaveLength(255);
    expectInvalid(`${host}/${'a'.repeat(255 - host.length)}`);
  });

  it('counts docker.io/library/ against the limit, as Docker does', () => {
    const prefix = 'docker.io/library/';
    expect(parseReference('a'.repeat(255 - prefix.length)).repository).toHaveLength(255);
    expectInvalid('a'.repeat(256 - prefix.length));
  });

  it('does not count the tag or digest against the limit', () => {
    const name = `h.io/${'a'.repeat(250)}`;
    expect(parseReference(`${name}:${'t'.repeat(128)}@${digestA}`).repository).toBe(name);
  });
});

describe('Reference', () => {
  it.each([
    ['busybox', 'busybox:latest'],
    ['docker.io/library/busybox:1', 'busybox:1'],
    ['user/app', 'user/app:latest'],
    ['docker.io/library/a/b', 'library/a/b:latest'],
    ['ghcr.io/a/b:1', 'ghcr.io/a/b:1'],
    ['localhost:5000/library/a', 'localhost:5000/library/a:latest'],
    [`busybox@${digestA}`, `busybox@${digestA}`],
  ])('familiar form of %s is %s', (input, familiar) => {
    expect(parseReference(input).familiar()).toBe(familiar);
  });

  it('parses its familiar form and its full form back to itself', () => {
    for (const input of ['busybox', 'library/a/b:2', `a/b@${digestA}`, 'Host:1/x:Y', '[::1]/a']) {
      const ref = parseReference(input);
      expect(parseReference(ref.familiar())).toEqual(ref);
      expect(parseReference(ref.toString())).toEqual(ref);
    }
  });

  it('withTag validates the tag and drops the digest', () => {
    const ref = parseReference(`a@${digestA}`).withTag('v2');
    expect(ref.toString()).toBe('docker.io/library/a:v2');
    expect(() => parseReference('a').withTag('bad tag')).toThrow(UsageError);
  });

  it('withDigest keeps the tag; withRepository keeps tag and digest', () => {
    const ref = parseReference('a:1').withDigest(digestA);
    expect(ref.toString()).toBe(`docker.io/library/a:1@${digestA}`);
    const moved = ref.withRepository('localhost:5000', 'mirror/a');
    expect(moved).toEqual(new Reference('localhost:5000', 'mirror/a', '1', digestA));
    expect(moved.repository).toBe('localhost:5000/mirror/a');
  });

  it('tryParseReference returns undefined instead of throwing', () => {
    expect(tryParseReference('foo/Bar')).toBeUndefined();
    expect(tryParseReference('foo/bar')?.toString()).toBe('docker.io/foo/bar:latest');
  });
});

describe('a reference typed with credentials in it', () => {
  it('is refused without its password in the message', () => {
    let caught: unknown;
    try {
      parseReference('bob:Zq9secretPW@127.0.0.1:5312/x/y');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const message = (caught as UsageError).message;
    expect(message).not.toContain('Zq9secretPW');
    expect(message).toContain('bob:***@127.0.0.1:5312/x/y');
  });

  it('keeps the tag of a name with a malformed digest in the message', () => {
    expect(expectInvalid('busybox:1.36@sha256:zz').message).toContain('1.36');
  });
});
