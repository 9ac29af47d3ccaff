import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

import {
  InterruptedError,
  NetworkError,
  RegtoolError,
  UnsupportedError,
  wrapError,
} from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { EngineEndpoint } from './docker-host.js';
import { daemonStatusError } from './engine-errors.js';
import { HttpTransport, readText, type DaemonCertificates } from './http-exchange.js';

/** The newest API version regtool speaks; the daemon may speak an older one. */
export const PREFERRED_API_VERSION = '1.41';
/** The oldest API version regtool accepts, the oldest that current Docker engines still serve. */
export const MINIMUM_API_VERSION = '1.24';

export interface EngineClientOptions {
  logger?: Logger;
  signal?: AbortSignal;
  /** Required when the endpoint is TLS (`https:` origin). */
  certificates?: DaemonCertificates;
}

/** One request to the Engine API. */
export interface EngineRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  /** Path below the version prefix, such as `/images/json`. */
  path: string;
  /** Query parameters; an array gives the parameter once per value (`names=a&names=b`). */
  query?: Record<string, string | string[]>;
  body?: Readable;
  headers?: Record<string, string>;
  /** The request names images: an answer that one is unknown throws a NotFoundError. */
  lookup?: boolean;
  /** Waits as long as the daemon needs (a save or load of large images), with no timeout. */
  unbounded?: boolean;
  /** What the request is for, to name in errors: `saving busybox:latest from the daemon`. */
  what: string;
}

/** The answer to a request that succeeded (status 2xx). */
export interface EngineResponse {
  statusCode: number;
  body: IncomingMessage;
}

/** How long a bounded request may go without a byte from the daemon. */
const IDLE_TIMEOUT_MS = 60_000;

/**
 * EngineClient speaks the Docker Engine API over a unix socket or TCP. It negotiates the API
 * version with the daemon once, maps refused connections to a NetworkError naming the socket,
 * and turns error answers into RegtoolErrors.
 */
export class EngineClient {
  readonly endpoint: EngineEndpoint;
  private readonly transport: HttpTransport;
  private readonly logger: Logger;
  private readonly signal?: AbortSignal;
  private versionPrefix?: Promise<string>;

  constructor(endpoint: EngineEndpoint, options: EngineClientOptions = {}) {
    this.endpoint = endpoint;
    this.transport = new HttpTransport(endpoint.socketPath, options.certificates);
    this.logger = options.logger ?? silentLogger;
    this.signal = options.signal;
  }

  /** apiVersion is the version both sides speak: the daemon's, capped at the preferred one. */
  async apiVersion(): Promise<string> {
    return (await this.prefix()).slice(2);
  }

  /** send makes a versioned request and returns the answer, throwing on any error status. */
  async send(options: EngineRequest): Promise<EngineResponse> {
    const prefix = await this.prefix();
    return this.dispatch({ ...options, path: `${prefix}${options.path}` });
  }

  /** getJson makes a versioned GET and parses the JSON answer; `lookup` as in EngineRequest. */
  async getJson(path: string, what: string, lookup = false): Promise<unknown> {
    const response = await this.send({ path, what, lookup });
    const text = await readText(response.body).catch((error: unknown) => {
      throw this.streamError(error, what);
    });
    return JSON.parse(text) as unknown;
  }

  /** close releases the connections. */
  async close(): Promise<void> {
    this.transport.close();
  }

  private prefix(): Promise<string> {
    this.versionPrefix ??= this.negotiate();
    return this.versionPrefix;
  }

  private async negotiate(): Promise<string> {
    const response = await this.dispatch({
      path: '/version',
      what: 'connecting to the Docker daemon',
    });
    const answer = JSON.parse(await readText(response.body)) as { ApiVersion?: unknown };
    const version = typeof answer.ApiVersion === 'string' ? answer.ApiVersion : undefined;
    if (version === undefined || !/^\d+\.\d+$/.test(version)) {
      throw new UnsupportedError(
        'DAEMON_VERSION_UNKNOWN',
        `the daemon at ${this.endpoint.display} gave no Engine API version`,
        { hint: 'point DOCKER_HOST at a Docker Engine API (docker, or podman system service)' },
      );
    }
    if (compareVersions(version, MINIMUM_API_VERSION) < 0) {
      throw new UnsupportedError(
        'DAEMON_VERSION_UNSUPPORTED',
        `the daemon at ${this.endpoint.display} speaks Engine API ${version}; regtool needs ` +
          `${MINIMUM_API_VERSION} or newer`,
        { hint: 'upgrade the daemon' },
      );
    }
    const chosen =
      compareVersions(version, PREFERRED_API_VERSION) < 0 ? version : PREFERRED_API_VERSION;
    this.logger.debug(`daemon at ${this.endpoint.display}: API ${version}, using ${chosen}`);
    return `/v${chosen}`;
  }

  private async dispatch(options: EngineRequest): Promise<EngineResponse> {
    const method = options.method ?? 'GET';
    const url = new URL(`${this.endpoint.origin}${options.path}${formatQuery(options.query)}`);
    this.logger.debug(`${method} ${this.endpoint.display}${options.path}`);
    let response: IncomingMessage;
    try {
      response = await this.transport.exchange({
        method,
        url,
        headers: options.headers,
        body: options.body,
        idleTimeoutMs: options.unbounded ? undefined : IDLE_TIMEOUT_MS,
        signal: this.signal,
      });
    } catch (error) {
      throw this.connectionError(error, options.what);
    }
    const statusCode = response.statusCode ?? 0;
    if (statusCode >= 300) {
      const text = await readText(response).catch(() => '');
      throw daemonStatusError(statusCode, text, {
        what: options.what,
        daemon: this.endpoint.display,
        lookup: options.lookup,
      });
    }
    return { statusCode, body: response };
  }

  /** streamError explains an answer that broke off, or could not be read, naming the request. */
  streamError(error: unknown, what: string): Error {
    if (error instanceof RegtoolError) return wrapError(what, error);
    if (this.signal?.aborted) return new InterruptedError(`${what}: interrupted`, { cause: error });
    const reason = error instanceof Error ? error.message : String(error);
    return new NetworkError(
      'DAEMON_ANSWER_BROKEN',
      `${what}: the answer of the daemon at ${this.endpoint.display} broke off: ${reason}`,
      { hint: "see the daemon's log for the cause, then retry", cause: error },
    );
  }

  /** connectionError says which socket was tried, and where that came from. */
  connectionError(error: unknown, what: string): Error {
    if (this.signal?.aborted) return new InterruptedError(`${what}: interrupted`, { cause: error });
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const source = this.endpoint.fromEnv ? 'from DOCKER_HOST' : 'the default; DOCKER_HOST is unset';
    return new NetworkError(
      'DAEMON_UNREACHABLE',
      `${what}: cannot reach the Docker daemon at ${this.endpoint.display} (${source}): ` +
        `${describeErrno(code, error)}`,
      {
        hint:
          this.endpoint.tlsCertPath === undefined
            ? 'start the daemon, or set DOCKER_HOST to its address (unix:///path/to/docker.sock ' +
              'or tcp://HOST:PORT)'
            : `check that the daemon is up and that the certificates in ` +
              `${this.endpoint.tlsCertPath} (DOCKER_CERT_PATH) are the daemon's`,
        cause: error,
      },
    );
  }
}

function describeErrno(code: string, error: unknown): string {
  switch (code) {
    case 'ENOENT':
      return 'no such socket';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EACCES':
      return 'permission denied on the socket';
    case 'ENOTSOCK':
      return 'not a socket';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

function formatQuery(query: EngineRequest['query']): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** compareVersions orders two `major.minor` versions numerically. */
export function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}
