import { describe, expect, it } from 'vitest';

import {
  AuthError,
  ExitCode,
  IntegrityError,
  InterruptedError,
  NetworkError,
  NotFoundError,
  RegtoolError,
  UnsupportedError,
  UsageError,
  wrapError,
} from '../../src/core/errors.js';

describe('RegtoolError and its kinds', () => {
  it.each([
    [new UsageError('C', 'm'), UsageError, 2],
    [new NotFoundError('C', 'm'), NotFoundError, 3],
    [new AuthError('C', 'm'), AuthError, 4],
    [new IntegrityError('C', 'm'), IntegrityError, 5],
    [new UnsupportedError('C', 'm'), UnsupportedError, 6],
    [new NetworkError('C', 'm'), NetworkError, 7],
    [new InterruptedError(), InterruptedError, 130],
  ] as const)('%s exits with its own status and is named after its class', (error, kind, exit) => {
    expect(error).toBeInstanceOf(RegtoolError);
    expect(error).toBeInstanceOf(Error);
    expect(error.exitCode).toBe(exit);
    expect(error.exitCode).toBe(ExitCode[error.category]);
    expect(error.name).toBe(kind.name);
    expect(String(error)).toMatch(new RegExp(`^${kind.name}: `));
  });

  it('keeps code, hint and cause', () => {
    const cause = new Error('socket closed');
    const error = new NetworkError('CONNECTION_RESET', 'lost ghcr.io', { hint: 'retry', cause });
    expect(error).toMatchObject({ code: 'CONNECTION_RESET', hint: 'retry', category: 'network' });
    expect(error.cause).toBe(cause);
    expect('cause' in new NetworkError('C', 'm')).toBe(false);
  });
});

describe('wrapError', () => {
  it('prefixes the context and keeps code, category, hint and class', () => {
    const inner = new NotFoundError('BLOB_UNKNOWN', 'blob sha256:ab not found', {
      hint: 'push it',
    });
    const wrapped = wrapError('copying ghcr.io/a/b:1', inner);
    expect(wrapped.message).toBe('copying ghcr.io/a/b:1: blob sha256:ab not found');
    expect(wrapped).toBeInstanceOf(NotFoundError);
    expect(wrapped.name).toBe('NotFoundError');
    expect(wrapped).toMatchObject({ code: 'BLOB_UNKNOWN', category: 'notFound', hint: 'push it' });
    expect(wrapped.exitCode).toBe(3);
    expect(wrapped.cause).toBe(inner);
  });

  it('keeps the class through several layers of context', () => {
    const twice = wrapError(
      'outer',
      wrapError('inner', new IntegrityError('DIGEST_MISMATCH', 'x')),
    );
    expect(twice).toBeInstanceOf(IntegrityError);
    expect(twice.message).toBe('outer: inner: x');
  });

  it('turns anything else into an internal error', () => {
    const plain = wrapError('reading index.json', new TypeError('boom'));
    expect(plain).toMatchObject({ code: 'INTERNAL', category: 'internal', exitCode: 1 });
    expect(plain.message).toBe('reading index.json: boom');
    expect(wrapError('ctx', 'text').message).toBe('ctx: text');
  });
});
