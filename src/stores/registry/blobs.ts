import { Readable } from 'node:stream';

import { DigestVerifier } from '../../core/digest.js';
import { AuthError, NetworkError } from '../../core/errors.js';
import type { Descriptor } from '../../core/schemas.js';
import { repositoryScope } from './auth.js';
import type { RegistryClient } from './client.js';
import { responseError } from './errors.js';
import { isTransientError, type HttpResponse } from './http.js';

/** How many times one download resumes after its connection drops. */
const MAX_RESUMES = 5;

function blobPath(path: string, digest: string): string {
  return `/v2/${path}/blobs/${digest}`;
}

/** headBlob tells whether the repository has the blob (with the expected size, when told). */
export async function headBlob(
  client: RegistryClient,
  path: string,
  descriptor: Descriptor,
  what: string,
): Promise<boolean> {
  const response = await client.request({
    method: 'HEAD',
    path: blobPath(path, descriptor.digest),
    scopes: [repositoryScope(path, ['pull'])],
  });
  await response.body.dump();
  if (response.status === 404) return false;
  if (response.status !== 200) throw await responseError(response, what, client.domain);
  const length = response.headers['content-length'];
  return length === undefined || Number(length) === descriptor.size;
}

/** A blob response positioned at `offset`: how many leading bytes to drop (a 200 to a Range). */
interface Opened {
  response: HttpResponse;
  skip: number;
}

async function openAt(
  client: RegistryClient,
  path: string,
  descriptor: Descriptor,
  offset: number,
  what: string,
): Promise<Opened> {
  const response = await client.request({
    method: 'GET',
    path: blobPath(path, descriptor.digest),
    scopes: [repositoryScope(path, ['pull'])],
    headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
  });
  if (response.status === 200) return { response, skip: offset };
  const range = /^bytes (\d+)-/.exec(String(response.headers['content-range'] ?? ''));
  if (response.status === 206 && range && Number(range[1]) === offset) return { response, skip: 0 };
  if (response.status === 206) {
    await response.body.dump();
    throw new NetworkError(
      'RANGE_INVALID',
      `${client.domain} resumed ${what} at the wrong offset`,
      {
        hint: 'try again; the registry answered a Range request incorrectly',
      },
    );
  }
  throw await responseError(response, what, client.domain);
}

/**
 * resumingChunks yields a blob's bytes, reopening the download with a Range request when the
 * connection drops; a server that answers the Range with 200 has the bytes already seen skipped.
 */
async function* resumingChunks(
  client: RegistryClient,
  path: string,
  descriptor: Descriptor,
  first: Opened,
  what: string,
): AsyncGenerator<Buffer> {
  let offset = 0;
  let opened = first;
  for (let resumes = 0; ; resumes++) {
    try {
      for await (const chunk of opened.response.body as AsyncIterable<Buffer>) {
        const piece = opened.skip > 0 ? chunk.subarray(Math.min(opened.skip, chunk.length)) : chunk;
        opened.skip -= chunk.length - piece.length;
        offset += piece.length;
        if (piece.length > 0) yield piece;
      }
      return;
    } catch (error) {
      if (!isTransientError(error) || resumes >= MAX_RESUMES || offset >= descriptor.size) {
        throw error;
      }
    }
    opened = await openAt(client, path, descriptor, offset, what);
  }
}

/** openBlob streams a blob, verified against its digest and size as it is read. */
export async function openBlob(
  client: RegistryClient,
  path: string,
  descriptor: Descriptor,
  what: string,
): Promise<Readable> {
  const first = await openAt(client, path, descriptor, 0, what);
  const verifier = new DigestVerifier(descriptor, what);
  const source = Readable.from(resumingChunks(client, path, descriptor, first, what), {
    objectMode: false,
  });
  source.on('error', (error) => verifier.destroy(error));
  return source.pipe(verifier);
}

/**
 * mountBlob links a blob from another repository of the same registry. False when the
 * registry declined (it may open an upload instead, which is cancelled).
 */
export async function mountBlob(
  client: RegistryClient,
  path: string,
  descriptor: Descriptor,
  fromPath: string,
): Promise<boolean> {
  const query = new URLSearchParams({ mount: descriptor.digest, from: fromPath });
  let response: HttpResponse;
  try {
    response = await client.request({
      method: 'POST',
      path: `/v2/${path}/blobs/uploads/?${query}`,
      scopes: [repositoryScope(path, ['pull', 'push']), repositoryScope(fromPath, ['pull'])],
      headers: { 'content-length': '0' },
    });
  } catch (error) {
    // No access to the repository mounted from: the blob is uploaded instead, and an upload
    // refused too says so then.
    if (error instanceof AuthError) return false;
    throw error;
  }
  await response.body.dump();
  if (response.status === 201) return true;
  const location = response.headers.location;
  if (response.status === 202 && typeof location === 'string') {
    await cancelUpload(client, path, location);
  }
  return false;
}

/** cancelUpload ends an upload session; a registry that already dropped it is fine. */
export async function cancelUpload(client: RegistryClient, path: string, location: string) {
  const response = await client.request({
    method: 'DELETE',
    path: location,
    scopes: [repositoryScope(path, ['pull', 'push'])],
  });
  await response.body.dump();
}
