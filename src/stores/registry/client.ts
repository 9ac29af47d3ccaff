import { InterruptedError, NetworkError, RegtoolError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { Authenticator } from './auth.js';
import { lookupCredentials } from './credentials.js';
import { createDispatcher, registryApiHost, schemesToTry } from './endpoint.js';
import {
  defaultRetryPolicy,
  errorCode,
  HttpClient,
  safeUrl,
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  type RetryPolicy,
} from './http.js';
import { proxyOf } from './proxy.js';

/** What the command line can say about registries: --creds, --insecure, --ca-cert. */
export interface RegistryOptions {
  /** `USER:PASSWORD`, used for every registry the command talks to. */
  creds?: string;
  /** Allow plain HTTP and unverified TLS. */
  insecure?: boolean;
  /** A PEM file of extra CAs. */
  caCert?: string;
  /** Where per-host CA files live (default /etc/docker/certs.d). */
  certsDir?: string;
  retry?: RetryPolicy;
  /** How long opening a connection may take, directly or through a proxy. */
  connectTimeoutMs?: number;
  /** Upload chunk size in bytes. */
  chunkSize?: number;
}

export interface ClientOptions extends RegistryOptions {
  /** Where credentials and HTTP(S)_PROXY/NO_PROXY are looked up (default process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  signal?: AbortSignal;
}

/** One request to the registry API. */
export interface ApiRequest {
  method: HttpMethod;
  /** A path under the endpoint (`/v2/…`) or an absolute URL (an upload Location). */
  path: string;
  /** Token scopes the request needs. */
  scopes: string[];
  headers?: Record<string, string>;
  body?: HttpRequest['body'];
}

const certificateCodes =
  /^(CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_TLS_CERT|HOSTNAME_MISMATCH)/;
const tlsCodes =
  /^(ERR_SSL|ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|EPROTO$|HOSTNAME_MISMATCH)/;

/** The endpoint (scheme) and challenge found for each registry host, once per process. */
const pings = new Map<string, Promise<{ base: URL; challenge?: string | string[] }>>();

/**
 * RegistryClient speaks to one registry: it finds the endpoint (HTTPS, or HTTP where allowed)
 * by pinging /v2/, authenticates each request for its scopes, and turns transport failures
 * into NetworkErrors (exit 7).
 */
export class RegistryClient {
  readonly apiHost: string;
  private base?: Promise<URL>;
  private readonly auth: Authenticator;

  private constructor(
    readonly domain: string,
    private readonly http: HttpClient,
    private readonly options: ClientOptions,
  ) {
    this.apiHost = registryApiHost(domain);
    const env = options.env ?? process.env;
    this.auth = new Authenticator(http, domain, () =>
      lookupCredentials(domain, env, options.creds),
    );
  }

  /** create builds a client for a registry domain (`docker.io`, `127.0.0.1:5000`). */
  static async create(domain: string, options: ClientOptions = {}): Promise<RegistryClient> {
    const dispatcher = await createDispatcher(registryApiHost(domain), options);
    const logger = options.logger ?? silentLogger;
    const http = new HttpClient(
      dispatcher,
      logger,
      options.retry ?? defaultRetryPolicy,
      options.signal,
    );
    return new RegistryClient(domain, http, options);
  }

  get chunkSize(): number {
    return this.options.chunkSize ?? 8 * 1024 * 1024;
  }

  /** endpoint is the registry's base URL, found once by pinging /v2/. */
  endpoint(): Promise<URL> {
    this.base ??= this.ping();
    return this.base;
  }

  /** request sends an authenticated request, answering one 401 with fresh credentials. */
  async request(req: ApiRequest): Promise<HttpResponse> {
    const url = new URL(req.path, await this.endpoint());
    const authorization = await this.auth.authorization(req.scopes);
    const first = await this.send({ ...req, url, authorization });
    if (first.status !== 401) return first;
    await first.body.dump();
    if (req.body !== undefined && !(req.body instanceof Uint8Array)) {
      throw await this.auth.refusal();
    }
    const renewed = await this.auth.reauthorize(first, req.scopes, authorization);
    const second = await this.send({ ...req, url, authorization: renewed });
    if (second.status === 401) {
      await second.body.dump();
      throw await this.auth.refusal();
    }
    return second;
  }

  /**
   * verifyCredentials checks that the registry accepts the client's credentials, as login
   * does: /v2/ with Basic, or a token for no scope at all from a Bearer realm.
   */
  async verifyCredentials(): Promise<void> {
    const response = await this.request({ method: 'GET', path: '/v2/', scopes: [] });
    await response.body.dump();
    if (response.status >= 400) throw await this.auth.refusal();
  }

  /** close releases the connections kept alive for this registry. */
  close(): Promise<void> {
    return this.http.close();
  }

  /** send is one HTTP exchange (with retries and redirects), failures mapped to exit 7. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    try {
      return await this.http.send(req);
    } catch (error) {
      throw this.transportError(error, req.url);
    }
  }

  private async ping(): Promise<URL> {
    // Two stores on one registry (a copy between repositories) share one ping per process.
    const key = `${this.apiHost} ${this.options.insecure ?? false}`;
    let found = pings.get(key);
    if (!found) {
      found = this.findEndpoint();
      pings.set(key, found);
      found.catch(() => pings.delete(key));
    }
    const { base, challenge } = await found;
    if (challenge !== undefined) this.auth.learn(challenge);
    return base;
  }

  private async findEndpoint(): Promise<{ base: URL; challenge?: string | string[] }> {
    let failure: unknown;
    for (const scheme of schemesToTry(this.apiHost, this.options.insecure ?? false)) {
      const base = new URL(`${scheme}://${this.apiHost}/`);
      try {
        const response = await this.http.send({ method: 'GET', url: new URL('/v2/', base) });
        await response.body.dump();
        const challenge =
          response.status === 401 ? response.headers['www-authenticate'] : undefined;
        return { base, challenge };
      } catch (error) {
        if (error instanceof RegtoolError) throw error;
        // A refused certificate says more than the plain-HTTP attempt that follows it.
        if (!certificateCodes.test(errorCode(failure) ?? '')) failure = error;
      }
    }
    throw this.transportError(failure, new URL(`https://${this.apiHost}/v2/`));
  }

  private transportError(error: unknown, url: URL): RegtoolError {
    if (error instanceof RegtoolError) return error;
    if (this.options.signal?.aborted) return new InterruptedError();
    const code = errorCode(error) ?? 'unknown error';
    if (tlsCodes.test(code)) {
      return new NetworkError('TLS_FAILED', `TLS with ${this.domain} failed (${code})`, {
        hint:
          `trust its CA with --ca-cert FILE or /etc/docker/certs.d/${this.apiHost}/ca.crt, ` +
          `or use --insecure`,
        cause: error,
      });
    }
    return this.unreachable(error, url, code);
  }

  /** unreachable names the proxy when the connection failed there, since the fix lies there. */
  private unreachable(error: unknown, url: URL, code: string): NetworkError {
    const proxy = proxyOf(error);
    const hint =
      proxy === undefined
        ? 'check the host name and port, that the registry is up, and HTTPS_PROXY/NO_PROXY'
        : `check that the proxy ${proxy} is up and lets CONNECT through to ${this.apiHost}, or ` +
          `list ${this.apiHost} in NO_PROXY`;
    const reason = proxy === undefined ? code : `${code} from the proxy ${proxy}`;
    return new NetworkError(
      'REGISTRY_UNREACHABLE',
      `cannot reach the registry ${this.domain} at ${safeUrl(url)} (${reason})`,
      { hint, cause: error },
    );
  }
}
