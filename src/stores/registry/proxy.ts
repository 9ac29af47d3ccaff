/**
 * Connections through HTTP(S)_PROXY. undici's EnvHttpProxyAgent picks the proxy and opens a
 * CONNECT tunnel per connection, but a tunnel that fails the way a dropped socket does is
 * retried at once and forever (https://github.com/nodejs/undici/issues/3897), and a proxy
 * that never answers the CONNECT is waited for until the 300 s headers timeout. Each tunnel
 * is therefore given a deadline here, and its failure is handed back to the request, where
 * the client's own retry budget applies.
 */
import { EnvHttpProxyAgent, errors, Pool, type buildConnector, type Dispatcher } from 'undici';

/** The proxies a registry host is reached through, as HTTP_PROXY and friends say. */
interface ProxySettings {
  http?: string;
  https?: string;
  no: string;
}

/** ProxyTunnelError: opening a connection through the proxy failed; `cause` says how. */
export class ProxyTunnelError extends Error {
  constructor(
    /** The proxy's origin, without credentials. */
    readonly proxy: string,
    cause: Error,
  ) {
    super(`no connection through the proxy ${proxy}: ${cause.message}`, { cause });
    this.name = 'ProxyTunnelError';
  }
}

/** proxyOf finds the proxy a failed request went through, in an error and its causes. */
export function proxyOf(error: unknown): string | undefined {
  for (let e = error; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ProxyTunnelError) return e.proxy;
  }
  return undefined;
}

/** Lower-case names first, as curl and undici read them; HTTPS falls back to HTTP_PROXY. */
function proxySettings(env: NodeJS.ProcessEnv): ProxySettings {
  const http = env.http_proxy ?? env.HTTP_PROXY;
  return {
    http,
    https: env.https_proxy ?? env.HTTPS_PROXY ?? http,
    no: env.no_proxy ?? env.NO_PROXY ?? '',
  };
}

/**
 * guardTunnel wraps the function that opens a tunnel: it gives up after `timeoutMs`, and it
 * wraps every failure, so that undici fails the waiting request instead of reconnecting.
 */
function guardTunnel(
  tunnel: buildConnector.connector,
  proxy: string,
  timeoutMs: number,
): buildConnector.connector {
  return (options, callback) => {
    const controller = new AbortController();
    let settled = false;
    const finish: buildConnector.Callback = (...[error, socket]) => {
      if (settled) return void socket?.destroy();
      settled = true;
      clearTimeout(timer);
      if (error) callback(new ProxyTunnelError(proxy, error), null);
      else callback(null, socket!);
    };
    const timer = setTimeout(() => {
      const timeout = new errors.ConnectTimeoutError(`no tunnel within ${timeoutMs} ms`);
      controller.abort(timeout);
      finish(timeout, null);
    }, timeoutMs);
    // ProxyAgent hands this signal to its CONNECT request, which the deadline then ends.
    tunnel({ ...options, signal: controller.signal } as buildConnector.Options, finish);
  };
}

/**
 * createProxyAgent builds the dispatcher for one registry host: direct, or through the proxy
 * the environment names for its scheme, both with `connect` (CAs, certificate checks) and a
 * connect timeout that a tunnel through a proxy keeps too.
 */
export function createProxyAgent(
  connect: buildConnector.BuildOptions,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Dispatcher {
  const proxies = proxySettings(env);
  const tls = { ...connect, timeout: timeoutMs };
  return new EnvHttpProxyAgent({
    httpProxy: proxies.http,
    httpsProxy: proxies.https,
    noProxy: proxies.no,
    connect: tls,
    requestTls: tls,
    factory: (origin: string | URL, options: object) => {
      const pool = options as Pool.Options;
      // Only ProxyAgent passes a function here: the one that opens the tunnel.
      if (typeof pool.connect !== 'function') return new Pool(origin, pool);
      const proxy = new URL(new URL(origin).protocol === 'https:' ? proxies.https! : proxies.http!);
      return new Pool(origin, {
        ...pool,
        connect: guardTunnel(pool.connect, proxy.origin, timeoutMs),
      });
    },
  });
}
