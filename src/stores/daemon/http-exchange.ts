import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** The PEM files of a TLS connection: the CA that signed the daemon, and the client's own. */
export interface DaemonCertificates {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** One HTTP exchange with the daemon. */
export interface Exchange {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Readable;
  /** Milliseconds of silence after which the request fails; none when undefined. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * HttpTransport makes requests over a unix socket, plain TCP or TLS with node:http. Not with
 * undici: its answer from podman's socket, once paused by a slower consumer, resumed only
 * after about 60 ms each time, which made a save streamed to disk fifty times slower.
 */
export class HttpTransport {
  private readonly agent: HttpAgent;

  constructor(
    private readonly socketPath?: string,
    private readonly certificates?: DaemonCertificates,
  ) {
    this.agent = certificates
      ? new HttpsAgent({ keepAlive: true, ...certificates })
      : new HttpAgent({ keepAlive: true });
  }

  /** exchange sends the request (streaming its body) and resolves with the answer's head. */
  exchange(exchange: Exchange): Promise<IncomingMessage> {
    const send = this.certificates ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(exchange.url, {
        method: exchange.method,
        headers: exchange.headers,
        agent: this.agent,
        socketPath: this.socketPath,
        signal: exchange.signal,
      });
      request.on('response', resolve);
      request.on('error', reject);
      if (exchange.idleTimeoutMs !== undefined) {
        request.setTimeout(exchange.idleTimeoutMs, () =>
          request.destroy(new Error(`no answer for ${exchange.idleTimeoutMs} ms`)),
        );
      }
      if (exchange.body === undefined) {
        request.end();
        return;
      }
      exchange.body.on('error', (error) => request.destroy(error));
      exchange.body.pipe(request);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** readText reads a whole (small) answer as text. */
export async function readText(body: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** discardBody reads an answer to its end, so that its connection can serve the next one. */
export async function discardBody(body: Readable): Promise<void> {
  body.resume();
  await finished(body);
}
