/** The categories every regtool error falls into, each with its own exit status. */
export const ExitCode = {
  internal: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  integrity: 5,
  unsupported: 6,
  network: 7,
  interrupted: 130,
} as const;

export type ErrorCategory = keyof typeof ExitCode;

export interface ErrorDetails {
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

/**
 * RegtoolError is the one base error: a stable `code` (documented in ERRORS.md), a category
 * that decides the exit status, a message that says what happened and to what, and a hint.
 */
export class RegtoolError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly hint?: string;

  constructor(category: ErrorCategory, code: string, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.category = category;
    this.code = code;
    this.hint = details.hint;
  }

  get exitCode(): number {
    return ExitCode[this.category];
  }
}

/** UsageError: the command line or its arguments are wrong. */
export class UsageError extends RegtoolError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super('usage', code, message, details);
  }
}

/** NotFoundError: an image, manifest, blob, repository or file does not exist. */
export class NotFoundError extends RegtoolError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super('notFound', code, message, details);
  }
}

/** AuthError: credentials are missing or refused. */
export class AuthError extends RegtoolError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super('auth', code, message, details);
  }
}

/** IntegrityError: bytes disagree with the digest, size or diff_id that names them. */
export class IntegrityError extends RegtoolError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super('integrity', code, message, details);
  }
}

/** UnsupportedError: valid input that regtool does not handle (yet). */
export class UnsupportedError extends RegtoolError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super('unsupported', code, message, details);
  }
}

/** NetworkError: a peer could not be reached or broke the connection. */
export class NetworkError extends RegtoolError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super('network', code, message, details);
  }
}

/** InterruptedError: the operation was cancelled, by Ctrl-C or an abort signal. */
export class InterruptedError extends RegtoolError {
  constructor(message = 'interrupted', details?: ErrorDetails) {
    super('interrupted', 'INTERRUPTED', message, details);
  }
}

/** Prefixes an error's message with what was being done, keeping its code and category. */
export function wrapError(context: string, error: unknown): RegtoolError {
  if (error instanceof RegtoolError) {
    const wrapped = new RegtoolError(error.category, error.code, `${context}: ${error.message}`, {
      hint: error.hint,
      cause: error,
    });
    // Keep the subclass, so that `instanceof NotFoundError` still holds after wrapping.
    Object.setPrototypeOf(wrapped, Object.getPrototypeOf(error));
    wrapped.name = error.name;
    return wrapped;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RegtoolError('internal', 'INTERNAL', `${context}: ${message}`, { cause: error });
}
