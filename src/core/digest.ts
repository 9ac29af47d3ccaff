import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';

import { IntegrityError, UsageError } from './errors.js';

/** A content digest in its canonical form, `algorithm:hex`. */
export type Digest = `${string}:${string}`;

// A Map, not an object literal: `constructor` or `toString` must not pass for an algorithm.
const hexLengths: ReadonlyMap<string, number> = new Map([
  ['sha256', 64],
  ['sha512', 128],
]);
const digestPattern = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Splits a digest into algorithm and encoded part. */
export function splitDigest(digest: string): { algorithm: string; hex: string } {
  const match = digestPattern.exec(digest);
  if (!match) {
    throw new UsageError('DIGEST_INVALID', `"${digest}" is not a digest`, {
      hint: 'a digest looks like sha256:<64 hex digits>',
    });
  }
  return { algorithm: match[1]!, hex: match[2]! };
}

/** isDigest tells whether a string is a valid digest of a supported algorithm. */
export function isDigest(value: string): value is Digest {
  const match = digestPattern.exec(value);
  if (!match) return false;
  const length = hexLengths.get(match[1]!);
  return length !== undefined && match[2]!.length === length && /^[0-9a-f]+$/.test(match[2]!);
}

/** parseDigest validates algorithm and hex length, and returns the digest unchanged. */
export function parseDigest(value: string): Digest {
  const { algorithm, hex } = splitDigest(value);
  const length = hexLengths.get(algorithm);
  if (length === undefined) {
    throw new UsageError('DIGEST_UNSUPPORTED', `digest algorithm "${algorithm}" is not supported`, {
      hint: 'use a sha256 or sha512 digest',
    });
  }
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    throw new UsageError('DIGEST_INVALID', `"${value}" is not a valid ${algorithm} digest`, {
      hint: `a ${algorithm} digest has ${length} lowercase hex digits`,
    });
  }
  return value as Digest;
}

/** The hex part of a digest. */
export function digestHex(digest: string): string {
  return splitDigest(digest).hex;
}

function hashFor(algorithm: string): Hash {
  if (!hexLengths.has(algorithm)) {
    throw new UsageError('DIGEST_UNSUPPORTED', `digest algorithm "${algorithm}" is not supported`);
  }
  return createHash(algorithm);
}

/** sha256Digest computes the sha256 digest of bytes in memory. */
export function sha256Digest(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** digestOf computes the digest of bytes with the algorithm of `like` (sha256 by default). */
export function digestOf(bytes: Uint8Array, like?: string): Digest {
  const algorithm = like ? splitDigest(like).algorithm : 'sha256';
  return `${algorithm}:${hashFor(algorithm).update(bytes).digest('hex')}`;
}

/** What a verifying stream expects to see. */
export interface Expected {
  digest: string;
  size?: number;
}

/**
 * verifying passes a stream through a DigestVerifier, unless it is known to verify itself
 * (`verified`), as a store's getBlob stream does: then it is not hashed a second time.
 */
export function verifying(
  content: Readable,
  expected: Expected,
  what: string,
  verified = false,
): Readable {
  if (verified) return content;
  const verifier = new DigestVerifier(expected, what);
  content.on('error', (error: Error) => verifier.destroy(error));
  return content.pipe(verifier);
}

/**
 * DigestVerifier passes bytes through unchanged and fails the stream with an IntegrityError
 * when the bytes seen disagree with the expected size (as soon as they exceed it) or digest
 * (at the end).
 */
export class DigestVerifier extends Transform {
  readonly expected: Expected;
  private readonly hash: Hash;
  private seen = 0;
  private readonly what: string;

  constructor(expected: Expected, what = 'blob') {
    super();
    this.expected = expected;
    // Refuse a malformed expectation now, not after streaming a whole blob against it.
    this.hash = hashFor(splitDigest(parseDigest(expected.digest)).algorithm);
    this.what = what;
  }

  get bytesSeen(): number {
    return this.seen;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.seen += chunk.length;
    if (this.expected.size !== undefined && this.seen > this.expected.size) {
      callback(this.sizeError());
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback) {
    if (this.expected.size !== undefined && this.seen !== this.expected.size) {
      callback(this.sizeError());
      return;
    }
    const actual = `${splitDigest(this.expected.digest).algorithm}:${this.hash.digest('hex')}`;
    if (actual !== this.expected.digest) {
      callback(
        new IntegrityError(
          'DIGEST_MISMATCH',
          `${this.what} ${this.expected.digest} has digest ${actual}`,
          { hint: 'the source is corrupt or was changed; fetch it again or repair the source' },
        ),
      );
      return;
    }
    callback();
  }

  private sizeError(): IntegrityError {
    return new IntegrityError(
      'SIZE_MISMATCH',
      `${this.what} ${this.expected.digest} should be ${this.expected.size} bytes, got ` +
        `${this.seen}${this.seen > (this.expected.size ?? 0) ? ' or more' : ''}`,
      { hint: 'the source is corrupt or truncated; fetch it again or repair the source' },
    );
  }
}

/** DigestCounter computes digest and size of whatever passes through, without an expectation. */
export class DigestCounter extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.size += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  /** The sha256 digest; valid once the stream has ended. */
  digest(): Digest {
    return `sha256:${this.hash.copy().digest('hex')}`;
  }
}

/** verifyBytes checks in-memory bytes against a digest and size. */
export function verifyBytes(bytes: Uint8Array, expected: Expected, what = 'content'): void {
  if (expected.size !== undefined && bytes.length !== expected.size) {
    throw new IntegrityError(
      'SIZE_MISMATCH',
      `${what} ${expected.digest} should be ${expected.size} bytes, got ${bytes.length}`,
      { hint: 'the source is corrupt or was changed' },
    );
  }
  const actual = digestOf(bytes, expected.digest);
  if (actual !== expected.digest) {
    throw new IntegrityError('DIGEST_MISMATCH', `${what} ${expected.digest} has digest ${actual}`, {
      hint: 'the source is corrupt or was changed',
    });
  }
}
