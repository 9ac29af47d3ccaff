/**
 * A scripted Distribution API server for quirks no real registry here shows. It holds blobs
 * and manifests in memory and lets each test replace how one kind of request is answered.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
) => boolean | void | Promise<boolean | void>;

export interface FakeRegistry {
  host: string;
  blobs: Map<string, Buffer>;
  manifests: Map<string, { bytes: Buffer; type: string }>;
  /** Every request seen, as `METHOD path?query`, with its Authorization header. */
  log: Array<{ line: string; authorization?: string }>;
  /** Handlers tried first; one that returns true (or writes the answer) takes the request. */
  quirks: Handler[];
  close(): Promise<void>;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** listen starts a server on a free port of 127.0.0.1. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function standard(fake: FakeRegistry, uploads: Map<string, Buffer[]>): Handler {
  return (request, response, body) => {
    const url = new URL(request.url!, 'http://fake');
    const path = url.pathname;
    const method = request.method!;
    if (path === '/v2/') return void response.end('{}');
    const blob = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]+)$/.exec(path);
    if (blob && (method === 'GET' || method === 'HEAD')) {
      const bytes = fake.blobs.get(blob[2]!);
      if (!bytes) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-length': bytes.length, 'docker-content-digest': blob[2] });
      return void response.end(method === 'HEAD' ? undefined : bytes);
    }
    if (/\/blobs\/uploads\/$/.test(path) && method === 'POST') {
      const id = String(uploads.size + 1);
      uploads.set(id, []);
      response.writeHead(202, { location: `${path}${id}?_state=s${id}` });
      return void response.end();
    }
    const upload = /\/blobs\/uploads\/(\d+)$/.exec(path);
    if (upload && method === 'PATCH') {
      uploads.get(upload[1]!)!.push(body);
      response.writeHead(202, { location: `${path}?_state=p${upload[1]}` });
      return void response.end();
    }
    if (upload && method === 'PUT') {
      const bytes = Buffer.concat([...uploads.get(upload[1]!)!, body]);
      const digest = url.searchParams.get('digest')!;
      if (sha256(bytes) !== digest)
        return void response.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
      fake.blobs.set(digest, bytes);
      response.writeHead(201, { 'docker-content-digest': digest });
      return void response.end();
    }
    const manifest = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(path);
    if (manifest && method === 'PUT') {
      const entry = { bytes: body, type: request.headers['content-type'] ?? '' };
      fake.manifests.set(manifest[2]!, entry);
      fake.manifests.set(sha256(body), entry);
      response.writeHead(201, { 'docker-content-digest': sha256(body) });
      return void response.end();
    }
    if (manifest && (method === 'GET' || method === 'HEAD')) {
      const entry = fake.manifests.get(manifest[2]!);
      if (!entry)
        return void response.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      response.writeHead(200, {
        'content-type': entry.type,
        'content-length': entry.bytes.length,
        'docker-content-digest': sha256(entry.bytes),
      });
      return void response.end(method === 'HEAD' ? undefined : entry.bytes);
    }
    response.writeHead(404).end();
  };
}

/** startFakeRegistry starts an empty scripted registry, over TLS when given a key and certificate. */
export async function startFakeRegistry(tls?: {
  key: string;
  cert: string;
}): Promise<FakeRegistry> {
  const uploads = new Map<string, Buffer[]>();
  const fake: FakeRegistry = {
    host: '',
    blobs: new Map(),
    manifests: new Map(),
    log: [],
    quirks: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const fallback = standard(fake, uploads);
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request);
    fake.log.push({
      line: `${request.method} ${request.url}`,
      authorization: request.headers.authorization,
    });
    for (const quirk of fake.quirks) {
      if ((await quirk(request, response, body)) === true || response.headersSent) return;
    }
    await fallback(request, response, body);
  };
  const server = tls ? createTlsServer(tls, handle) : createServer(handle);
  fake.host = await listen(server);
  return fake;
}
