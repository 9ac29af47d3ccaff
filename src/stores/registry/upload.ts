import type { Readable } from 'node:stream';

import { IntegrityError, NetworkError, type RegtoolError } from '../../core/errors.js';
import type { Descriptor } from '../../core/schemas.js';
import { repositoryScope } from './auth.js';
import { cancelUpload } from './blobs.js';
import { ChunkReader } from './chunk-reader.js';
import type { RegistryClient } from './client.js';
import { responseError } from './errors.js';
import type { HttpResponse } from './http.js';
import { contentDigest } from './manifests.js';

/** An upload in progress: the client, the repository and the current session URL. */
interface Session {
  client: RegistryClient;
  path: string;
  descriptor: Descriptor;
  what: string;
  location: string;
}

/**
 * Statuses with which registries refuse an upload style (PATCH, or a body on the final PUT)
 * rather than the content; the other style is tried then.
 */
const styleRefused = new Set([400, 405, 411, 413, 415, 416, 501]);

/** withDigest appends `digest=` to an upload URL, keeping the query it already has. */
export function withDigest(location: string, digest: string): string {
  const separator = location.includes('?') ? '&' : '?';
  return `${location}${separator}digest=${encodeURIComponent(digest)}`;
}

/** nextLocation is where a session continues: the answer's Location, resolved against it. */
function nextLocation(response: HttpResponse, current: string): string {
  const location = response.headers.location;
  return typeof location === 'string' ? new URL(location, response.url).href : current;
}

async function startSession(
  client: RegistryClient,
  path: string,
  descriptor: Descriptor,
  what: string,
): Promise<Session> {
  const response = await client.request({
    method: 'POST',
    path: `/v2/${path}/blobs/uploads/`,
    scopes: [repositoryScope(path, ['pull', 'push'])],
    headers: { 'content-length': '0' },
  });
  if (response.status !== 202 || typeof response.headers.location !== 'string') {
    throw await responseError(response, what, client.domain);
  }
  await response.body.dump();
  return { client, path, descriptor, what, location: nextLocation(response, '') };
}

function send(
  session: Session,
  method: 'PUT' | 'PATCH',
  url: string,
  body?: Buffer | Readable,
  headers = {},
) {
  return session.client.request({
    method,
    path: url,
    scopes: [repositoryScope(session.path, ['pull', 'push'])],
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: body ?? Buffer.alloc(0),
  });
}

/** finish checks the final PUT's answer: 201, and the digest the registry echoes if any. */
async function finish(session: Session, response: HttpResponse): Promise<void> {
  if (response.status !== 201 && response.status !== 204 && response.status !== 200) {
    throw await responseError(response, session.what, session.client.domain);
  }
  await response.body.dump();
  const echoed = contentDigest(response);
  if (echoed !== undefined && echoed !== session.descriptor.digest) {
    throw new IntegrityError(
      'REGISTRY_DIGEST_MISMATCH',
      `${session.client.domain} stored ${session.what} as ${echoed}`,
      {
        hint: 'the registry changed or lost bytes in transit; push again',
      },
    );
  }
}

/**
 * patch sends the bytes from `start` on: one chunk, or the rest of the blob as a stream. It
 * moves the session to the Location the registry answers with.
 */
async function patch(
  session: Session,
  bytes: Buffer | Readable,
  start: number,
): Promise<HttpResponse | undefined> {
  const end = Buffer.isBuffer(bytes) ? start + bytes.length : session.descriptor.size;
  const range = { 'content-range': `${start}-${end - 1}`, 'content-length': String(end - start) };
  const response = await send(session, 'PATCH', session.location, bytes, range);
  // The Range answered (cumulative, per chunk, `bytes=` or none) is not trusted: the final
  // PUT with the digest decides whether the registry has the right bytes.
  if (response.status !== 202 && response.status !== 204) return response;
  await response.body.dump();
  session.location = nextLocation(response, session.location);
  return undefined;
}

/**
 * restart drops a session whose upload style the registry refused and opens a fresh one in
 * its place, so that a later failure cancels the right one.
 */
async function restart(session: Session): Promise<Session> {
  await cancelUpload(session.client, session.path, session.location).catch(() => undefined);
  const fresh = await startSession(session.client, session.path, session.descriptor, session.what);
  session.location = fresh.location;
  return session;
}

function finalUrl(session: Session): string {
  return withDigest(session.location, session.descriptor.digest);
}

/** Blobs that fit in one chunk: a monolithic PUT, else POST-PATCH-PUT. */
async function uploadWhole(session: Session, bytes: Buffer): Promise<void> {
  const put = await send(session, 'PUT', finalUrl(session), bytes);
  if (!styleRefused.has(put.status)) return finish(session, put);
  const refusal = await responseError(put, session.what, session.client.domain);
  if (refusal instanceof IntegrityError) throw refusal;
  const retry = await restart(session);
  const refused = await patch(retry, bytes, 0);
  if (refused) throw await responseError(refused, retry.what, retry.client.domain);
  return finish(retry, await send(retry, 'PUT', finalUrl(retry)));
}

/**
 * Larger blobs start with one chunk, read into memory, so that a registry that refuses PATCH
 * still gets the whole blob monolithically, without re-reading. Once the first chunk is taken,
 * the rest follows in one streamed PATCH, as docker push sends a layer: reading and sending
 * overlap, and a large layer costs one request, not one per chunk.
 */
async function uploadChunked(session: Session, reader: ChunkReader, first: Buffer): Promise<void> {
  const refused = await patch(session, first, 0);
  if (refused) {
    if (!styleRefused.has(refused.status)) {
      throw await responseError(refused, session.what, session.client.domain);
    }
    await refused.body.dump();
    const retry = await restart(session);
    const size = { 'content-length': String(session.descriptor.size) };
    return finish(retry, await send(retry, 'PUT', finalUrl(retry), reader.rest(first), size));
  }
  if (session.descriptor.size > first.length) {
    const failed = await patch(session, reader.rest(Buffer.alloc(0)), first.length);
    if (failed) throw await responseError(failed, session.what, session.client.domain);
  }
  return finish(session, await send(session, 'PUT', finalUrl(session)));
}

/**
 * uploadBlob pushes a blob whose content fails when it disagrees with its descriptor (see
 * verifying), so a corrupt blob never completes an upload. A failed upload is cancelled.
 */
export async function uploadBlob(
  client: RegistryClient,
  path: string,
  descriptor: Descriptor,
  content: Readable,
  what: string,
): Promise<void> {
  const reader = new ChunkReader(content);
  const first = await reader.read(client.chunkSize);
  const session = await startSession(client, path, descriptor, what);
  try {
    if (reader.exhausted) await uploadWhole(session, first);
    else await uploadChunked(session, reader, first);
  } catch (error) {
    await cancelUpload(client, path, session.location).catch(() => undefined);
    throw asUploadError(error, what);
  }
}

function asUploadError(error: unknown, what: string): RegtoolError | unknown {
  if (error instanceof Error && !('category' in error)) {
    return new NetworkError('UPLOAD_FAILED', `uploading ${what} failed: ${error.message}`, {
      hint: 'try again; the connection to the registry broke',
      cause: error,
    });
  }
  return error;
}
