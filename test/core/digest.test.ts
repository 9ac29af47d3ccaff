import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { describe, expect, it } from 'vitest';

import {
  digestHex,
  digestOf,
  DigestCounter,
  DigestVerifier,
  isDigest,
  parseDigest,
  sha256Digest,
  splitDigest,
  verifyBytes,
  type Expected,
} from '../../src/core/digest.js';
import { ExitCode, IntegrityError, UsageError } from '../../src/core/errors.js';

const data = Buffer.from('hello, registry\n'.repeat(1000));
const dataDigest = `sha256:${createHash('sha256').update(data).digest('hex')}` as const;
const hex64 = 'a'.repeat(64);
const hex128 = 'b'.repeat(128);

/** Chops bytes into uneven chunks, so a verifier sees more than one write. */
function chunksOf(bytes: Uint8Array, size = 777): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size)
    out.push(Buffer.from(bytes.subarray(at, at + size)));
  return out;
}

/** Streams bytes through a verifier and returns what came out. */
async function verifyStream(bytes: Uint8Array, expected: Expected): Promise<Buffer> {
  const received: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(chunksOf(bytes)), new DigestVerifier(expected), sink);
  return Buffer.concat(received);
}

async function expectIntegrityError(run: Promise<unknown>, code: string): Promise<IntegrityError> {
  const error = await run.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(IntegrityError);
  const integrity = error as IntegrityError;
  expect(integrity.code).toBe(code);
  expect(integrity.exitCode).toBe(ExitCode.integrity);
  expect(integrity.exitCode).toBe(5);
  expect(integrity.hint).toBeTruthy();
  return integrity;
}

function expectUsageError(run: () => unknown, code: string): void {
  expect(run).toThrow(UsageError);
  expect(run).toThrow(expect.objectContaining({ code }));
}

describe('parseDigest', () => {
  it('accepts sha256 and sha512 digests and returns them unchanged', () => {
    expect(parseDigest(`sha256:${hex64}`)).toBe(`sha256:${hex64}`);
    expect(parseDigest(`sha512:${hex128}`)).toBe(`sha512:${hex128}`);
    expect(parseDigest(dataDigest)).toBe(dataDigest);
  });

  it.each([
    `sha256:${'a'.repeat(63)}`,
    `sha256:${'a'.repeat(65)}`,
    `sha256:${hex128}`,
    `sha512:${hex64}`,
    `sha256:${'A'.repeat(64)}`,
    `sha256:${'g'.repeat(64)}`,
    `sha256:${'a'.repeat(63)}=`,
  ])('refuses %s with DIGEST_INVALID', (value) => {
    expectUsageError(() => parseDigest(value), 'DIGEST_INVALID');
  });

  it.each([
    '',
    'sha256',
    'sha256:',
    `:${hex64}`,
    hex64,
    `SHA256:${hex64}`,
    `sha256::${hex64}`,
    `toString:${hex64}`,
    `__proto__:${hex64}`,
  ])('refuses the malformed %j with DIGEST_INVALID', (value) => {
    expectUsageError(() => parseDigest(value), 'DIGEST_INVALID');
  });

  it.each(['md5', 'sha384', 'blake3', 'constructor'])(
    'refuses the unsupported algorithm %s with DIGEST_UNSUPPORTED',
    (algorithm) => {
      expectUsageError(() => parseDigest(`${algorithm}:${hex64}`), 'DIGEST_UNSUPPORTED');
    },
  );

  it('says in its error what a digest looks like', () => {
    try {
      parseDigest(`sha256:${'A'.repeat(64)}`);
      expect.unreachable();
    } catch (error) {
      expect((error as UsageError).hint).toMatch(/lowercase hex/);
      expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    }
  });
});

describe('isDigest, splitDigest and digestHex', () => {
  it('isDigest is true only for a valid, supported digest', () => {
    expect(isDigest(`sha256:${hex64}`)).toBe(true);
    expect(isDigest(`sha512:${hex128}`)).toBe(true);
    expect(isDigest(`sha256:${'A'.repeat(64)}`)).toBe(false);
    expect(isDigest(`sha256:${'a'.repeat(63)}`)).toBe(false);
    expect(isDigest(`md5:${'a'.repeat(32)}`)).toBe(false);
    expect(isDigest(`constructor:${hex64}`)).toBe(false);
    expect(isDigest('not a digest')).toBe(false);
  });

  it('splitDigest follows the OCI grammar without checking the algorithm', () => {
    expect(splitDigest(`sha256:${hex64}`)).toEqual({ algorithm: 'sha256', hex: hex64 });
    expect(splitDigest('multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8')).toEqual({
      algorithm: 'multihash+base58',
      hex: 'QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8',
    });
    expectUsageError(() => splitDigest('sha256'), 'DIGEST_INVALID');
    expect(digestHex(`sha256:${hex64}`)).toBe(hex64);
  });
});

describe('computing digests', () => {
  it('sha256Digest hashes bytes and strings alike', () => {
    const empty = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(sha256Digest(new Uint8Array())).toBe(empty);
    expect(sha256Digest('')).toBe(empty);
    expect(sha256Digest(data)).toBe(dataDigest);
    expect(sha256Digest(data.toString('utf8'))).toBe(dataDigest);
  });

  it('digestOf uses the algorithm of the digest it is given', () => {
    expect(digestOf(data)).toBe(dataDigest);
    expect(digestOf(data, `sha256:${hex64}`)).toBe(dataDigest);
    const sha512 = `sha512:${createHash('sha512').update(data).digest('hex')}`;
    expect(digestOf(data, `sha512:${hex128}`)).toBe(sha512);
    expectUsageError(() => digestOf(data, `md5:${'a'.repeat(32)}`), 'DIGEST_UNSUPPORTED');
  });
});

describe('DigestVerifier', () => {
  it('passes good data through unchanged, with or without a size', async () => {
    expect(await verifyStream(data, { digest: dataDigest, size: data.length })).toEqual(data);
    expect(await verifyStream(data, { digest: dataDigest })).toEqual(data);
  });

  it('passes empty content', async () => {
    const empty = sha256Digest('');
    expect(await verifyStream(new Uint8Array(), { digest: empty, size: 0 })).toHaveLength(0);
  });

  it('verifies sha512 digests', async () => {
    const digest = `sha512:${createHash('sha512').update(data).digest('hex')}`;
    expect(await verifyStream(data, { digest, size: data.length })).toEqual(data);
  });

  it('counts the bytes it has seen', async () => {
    const verifier = new DigestVerifier({ digest: dataDigest, size: data.length });
    await pipeline(
      Readable.from(chunksOf(data)),
      verifier,
      new Writable({ write: (_c, _e, cb) => cb() }),
    );
    expect(verifier.bytesSeen).toBe(data.length);
  });

  it('fails with DIGEST_MISMATCH on the wrong digest', async () => {
    const error = await expectIntegrityError(
      verifyStream(data, { digest: `sha256:${hex64}`, size: data.length }),
      'DIGEST_MISMATCH',
    );
    expect(error.message).toContain(`sha256:${hex64}`);
    expect(error.message).toContain(dataDigest);
  });

  it('fails with DIGEST_MISMATCH when one byte changed and no size is known', async () => {
    const changed = Buffer.from(data);
    changed[changed.length - 1] ^= 1;
    await expectIntegrityError(verifyStream(changed, { digest: dataDigest }), 'DIGEST_MISMATCH');
  });

  it('fails with SIZE_MISMATCH on content that is too long, before it all passes', async () => {
    const longer = Buffer.concat([data, data]);
    const received: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        callback();
      },
    });
    const run = pipeline(
      Readable.from(chunksOf(longer)),
      new DigestVerifier({ digest: dataDigest, size: data.length }),
      sink,
    );
    const error = await expectIntegrityError(run, 'SIZE_MISMATCH');
    expect(error.message).toContain(`${data.length} bytes`);
    expect(Buffer.concat(received).length).toBeLessThanOrEqual(data.length);
  });

  it('fails with SIZE_MISMATCH on content that is too short', async () => {
    const shorter = data.subarray(0, data.length - 1);
    const error = await expectIntegrityError(
      verifyStream(shorter, { digest: dataDigest, size: data.length }),
      'SIZE_MISMATCH',
    );
    expect(error.message).toContain(`got ${shorter.length}`);
  });

  it('fails with SIZE_MISMATCH on right bytes announced with the wrong size', async () => {
    await expectIntegrityError(
      verifyStream(data, { digest: dataDigest, size: data.length + 1 }),
      'SIZE_MISMATCH',
    );
    await expectIntegrityError(
      verifyStream(data, { digest: dataDigest, size: data.length - 1 }),
      'SIZE_MISMATCH',
    );
  });

  it('names what it verifies', async () => {
    const run = pipeline(
      Readable.from([data]),
      new DigestVerifier({ digest: `sha256:${hex64}` }, 'layer of ghcr.io/a/b'),
      new Writable({ write: (_c, _e, cb) => cb() }),
    );
    expect((await expectIntegrityError(run, 'DIGEST_MISMATCH')).message).toMatch(/^layer of/);
  });

  it('refuses a malformed or unsupported expected digest up front', () => {
    expectUsageError(() => new DigestVerifier({ digest: 'sha256:abc' }), 'DIGEST_INVALID');
    expectUsageError(
      () => new DigestVerifier({ digest: `sha256:${'A'.repeat(64)}` }),
      'DIGEST_INVALID',
    );
    expectUsageError(
      () => new DigestVerifier({ digest: `md5:${'a'.repeat(32)}` }),
      'DIGEST_UNSUPPORTED',
    );
    expectUsageError(
      () => new DigestVerifier({ digest: `constructor:${hex64}` }),
      'DIGEST_UNSUPPORTED',
    );
  });
});

describe('DigestCounter', () => {
  it('computes the digest and size of what passes through', async () => {
    const counter = new DigestCounter();
    const received: Buffer[] = [];
    await pipeline(
      Readable.from(chunksOf(data)),
      counter,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          received.push(chunk);
          callback();
        },
      }),
    );
    expect(counter.size).toBe(data.length);
    expect(counter.digest()).toBe(dataDigest);
    expect(counter.digest()).toBe(dataDigest);
    expect(Buffer.concat(received)).toEqual(data);
  });
});

describe('verifyBytes', () => {
  it('accepts matching bytes', () => {
    expect(() => verifyBytes(data, { digest: dataDigest, size: data.length })).not.toThrow();
    expect(() => verifyBytes(data, { digest: dataDigest })).not.toThrow();
  });

  it('refuses the wrong size or digest with an IntegrityError', () => {
    expect(() => verifyBytes(data, { digest: dataDigest, size: 1 })).toThrow(
      expect.objectContaining({ code: 'SIZE_MISMATCH', category: 'integrity' }),
    );
    expect(() => verifyBytes(data, { digest: `sha256:${hex64}` })).toThrow(
      expect.objectContaining({ code: 'DIGEST_MISMATCH', category: 'integrity' }),
    );
    expect(() => verifyBytes(data, { digest: `sha256:${hex64}` }, 'manifest')).toThrow(
      /^manifest sha256:a+ has digest/,
    );
  });
});
