/**
 * The HTTP layer under the registry client. It is built on undici rather than Node's fetch:
 * undici's `request` gives a Node stream body (piped straight into digest verifiers and
 * files), a dispatcher per registry (EnvHttpProxyAgent for HTTP(S)_PROXY/NO_PROXY, extra CAs
 * from certs.d and --ca-cert), and no automatic redirects, so redirects are followed here:
 * Authorization is dropped when a redirect leaves the origin, and HTTPS is never downgraded.
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { request, type Dispatcher } from 'undici';

import { InterruptedError, NetworkError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  /** Bytes may be sent again (retries, redirects); a stream only once. */
  body?: Uint8Array | Readable;
  /** The Authorization value; never sent to another origin, never logged. */
  authorization?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & {
    dump(): Promise<void>;
    text(): Promise<string>;
    arrayBuffer(): Promise<ArrayBuffer>;
    json(): Promise<unknown>;
  };
  /** The URL that answered, after redirects. */
  url: URL;
}

/** How often and how long to retry 5xx, 429 and dropped connections. */
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
};

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;
const MAX_RETRY_AFTER_MS = 60_000;
const transientCodes = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** errorCode digs the system error code out of an undici error and its causes. */
export function errorCode(error: unknown): string | undefined {
  const codes: string[] = [];
  for (let e = error; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  // undici wraps the socket's own error (ECONNRESET…) in UND_ERR_SOCKET; the inner one says more.
  return codes.find((code) => code !== 'UND_ERR_SOCKET') ?? codes[0];
}

/** isTransientError: a dropped or timed-out connection, worth retrying. */
export function isTransientError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && transientCodes.has(code);
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

/** retryAfterMs reads Retry-After, in seconds or as a date. */
function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The URL as it may appear in logs and errors: no credentials, no query (presigned URLs). */
export function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * HttpClient sends one logical request: it retries transient failures with capped exponential
 * backoff (honoring Retry-After), and follows redirects for requests that can be re-sent.
 */
export class HttpClient {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
    private readonly retry: RetryPolicy = defaultRetryPolicy,
    private readonly signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', this.destroy, { once: true });
  }

  /** close releases the connections kept alive for this registry. */
  close(): Promise<void> {
    this.signal?.removeEventListener('abort', this.destroy);
    return this.signal?.aborted ? this.dispatcher.destroy() : this.dispatcher.close();
  }

  // A request that waits for a connection (a proxy that never answers, a tunnel reopened
  // over and over) does not see its own signal, so an abort ends every request at once.
  private readonly destroy = () => void this.dispatcher.destroy(new InterruptedError());

  /** send sends a request; only a request whose body can be sent again is retried or redirected. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const resendable = !isStream(req.body);
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await this.follow(req, resendable);
      } catch (error) {
        if (!resendable || !isTransientError(error) || attempt >= this.retry.attempts) throw error;
        await this.pause(this.backoff(attempt), `${req.method} ${safeUrl(req.url)}`, error);
        continue;
      }
      if (!resendable || !isRetryableStatus(response.status) || attempt >= this.retry.attempts) {
        return response;
      }
      await response.body.dump();
      const wait = retryAfterMs(response.headers['retry-after']) ?? this.backoff(attempt);
      // Retry-After is honored, but a registry asking for an hour does not hang the command.
      await this.pause(
        Math.min(wait, MAX_RETRY_AFTER_MS),
        `${req.method} ${safeUrl(req.url)}`,
        response.status,
      );
    }
  }

  /** follow sends the request and follows redirects, dropping Authorization off-origin. */
  private async follow(req: HttpRequest, resendable: boolean): Promise<HttpResponse> {
    let current = req;
    for (let hops = 0; ; hops++) {
      const response = await this.once(current);
      const location = response.headers.location;
      if (!redirectStatuses.has(response.status) || typeof location !== 'string' || !resendable) {
        return response;
      }
      await response.body.dump();
      if (hops >= MAX_REDIRECTS) {
        throw new NetworkError(
          'TOO_MANY_REDIRECTS',
          `${safeUrl(req.url)} redirected more than ${MAX_REDIRECTS} times`,
          {
            hint: 'the registry or a proxy in front of it is misconfigured',
          },
        );
      }
      current = redirected(current, new URL(location, current.url), response.status);
    }
  }

  private async once(req: HttpRequest): Promise<HttpResponse> {
    if (this.signal?.aborted) throw new InterruptedError();
    const headers: Record<string, string> = { 'user-agent': 'regtool', ...req.headers };
    if (req.authorization !== undefined) headers.authorization = req.authorization;
    this.logger.debug(`${req.method} ${safeUrl(req.url)}`);
    const answer = await request(req.url, {
      method: req.method,
      headers,
      body: req.body as Dispatcher.DispatchOptions['body'],
      dispatcher: this.dispatcher,
      signal: this.signal,
    });
    this.logger.debug(`${answer.statusCode} ${req.method} ${safeUrl(req.url)}`);
    return {
      status: answer.statusCode,
      headers: answer.headers,
      body: answer.body as HttpResponse['body'],
      url: req.url,
    };
  }

  private backoff(attempt: number): number {
    const delay = this.retry.baseDelayMs * 2 ** (attempt - 1);
    return Math.min(this.retry.maxDelayMs, delay) * (0.75 + Math.random() / 2);
  }

  private async pause(ms: number, what: string, reason: unknown): Promise<void> {
    const why = typeof reason === 'number' ? `status ${reason}` : (errorCode(reason) ?? 'error');
    this.logger.debug(`retrying ${what} after ${why} in ${Math.round(ms)} ms`);
    try {
      await sleep(ms, undefined, { signal: this.signal });
    } catch {
      throw new InterruptedError();
    }
  }
}

function isStream(body: HttpRequest['body']): body is Readable {
  return body !== undefined && !(body instanceof Uint8Array);
}

/**
 * redirected is the request to send after a redirect: 303 turns into GET; Authorization
 * stays only on the same origin; HTTPS never falls back to HTTP.
 */
export function redirected(req: HttpRequest, target: URL, status: number): HttpRequest {
  if (req.url.protocol === 'https:' && target.protocol !== 'https:') {
    throw new NetworkError(
      'REDIRECT_DOWNGRADE',
      `${safeUrl(req.url)} redirected to plain ${target.protocol} ${safeUrl(target)}`,
      {
        hint: 'regtool never leaves HTTPS for an unencrypted redirect; fix the registry or proxy',
      },
    );
  }
  const sameOrigin = target.origin === req.url.origin;
  const method = status === 303 && req.method !== 'HEAD' ? 'GET' : req.method;
  return {
    method,
    url: target,
    headers: req.headers,
    body: method === 'GET' ? undefined : req.body,
    authorization: sameOrigin ? req.authorization : undefined,
  };
}
