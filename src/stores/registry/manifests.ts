import { digestOf, isDigest, verifyBytes } from '../../core/digest.js';
import { IntegrityError } from '../../core/errors.js';
import { parseManifest } from '../../core/manifest.js';
import { manifestMediaTypes } from '../../core/media-types.js';
import type { Descriptor } from '../../core/schemas.js';
import { repositoryScope } from './auth.js';
import type { RegistryClient } from './client.js';
import { readAnswer, responseError } from './errors.js';
import type { HttpResponse } from './http.js';

/** Every manifest type regtool reads: a registry converts or hides what Accept leaves out. */
const ACCEPT = manifestMediaTypes.join(', ');

/** A manifest fetched from a registry: exact bytes, their digest, and the type the body has. */
export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Uint8Array;
}

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function contentType(response: HttpResponse): string | undefined {
  return header(response, 'content-type')?.split(';')[0]?.trim();
}

/** The Docker-Content-Digest header when it is a well-formed digest (it is optional). */
export function contentDigest(response: HttpResponse): string | undefined {
  const value = header(response, 'docker-content-digest')?.trim().toLowerCase();
  return value !== undefined && isDigest(value) ? value : undefined;
}

function manifestPath(path: string, identifier: string): string {
  return `/v2/${path}/manifests/${identifier}`;
}

/**
 * headManifest asks for a manifest's descriptor without its body. Undefined when the answer
 * lacks what a descriptor needs (digest, type, length): the caller then fetches the body.
 */
export async function headManifest(
  client: RegistryClient,
  path: string,
  identifier: string,
  what: string,
): Promise<Descriptor | undefined> {
  const response = await client.request({
    method: 'HEAD',
    path: manifestPath(path, identifier),
    scopes: [repositoryScope(path, ['pull'])],
    headers: { accept: ACCEPT },
  });
  await response.body.dump();
  if (response.status === 404) throw await responseError(response, what, client.domain);
  if (response.status !== 200) return undefined;
  const digest = isDigest(identifier) ? identifier : contentDigest(response);
  const mediaType = contentType(response);
  const size = Number(header(response, 'content-length'));
  if (digest === undefined || mediaType === undefined || !Number.isInteger(size) || size <= 0) {
    return undefined;
  }
  if (!manifestMediaTypes.includes(mediaType)) return undefined;
  return { mediaType, digest, size };
}

/**
 * fetchManifest GETs a manifest's exact bytes. Fetched by digest, the bytes are verified;
 * by tag, the digest is computed from them, whatever Docker-Content-Digest says.
 */
export async function fetchManifest(
  client: RegistryClient,
  path: string,
  identifier: string,
  what: string,
): Promise<FetchedManifest> {
  const response = await client.request({
    method: 'GET',
    path: manifestPath(path, identifier),
    scopes: [repositoryScope(path, ['pull'])],
    headers: { accept: ACCEPT },
  });
  if (response.status !== 200) throw await responseError(response, what, client.domain);
  const bytes = new Uint8Array(await readAnswer(response, what, client.domain));
  const digest = isDigest(identifier) ? identifier : digestOf(bytes);
  if (isDigest(identifier)) verifyBytes(bytes, { digest }, what);
  const parsed = parseManifest(bytes, contentType(response), what);
  return { descriptor: { mediaType: parsed.mediaType, digest, size: bytes.length }, bytes };
}

/**
 * pushManifest PUTs a manifest under a tag or its digest, with its media type as Content-Type.
 * A Docker-Content-Digest answer that disagrees with the bytes sent fails the push. Tells
 * whether the registry indexed the manifest's subject for the referrers API.
 */
export async function pushManifest(
  client: RegistryClient,
  path: string,
  identifier: string,
  descriptor: Descriptor,
  bytes: Uint8Array,
  what: string,
): Promise<{ subjectIndexed: boolean }> {
  const mediaType = parseManifest(bytes, descriptor.mediaType, what).mediaType;
  const response = await client.request({
    method: 'PUT',
    path: manifestPath(path, identifier),
    scopes: [repositoryScope(path, ['pull', 'push'])],
    headers: { 'content-type': mediaType },
    body: bytes,
  });
  if (response.status !== 201 && response.status !== 200 && response.status !== 202) {
    throw await responseError(response, what, client.domain);
  }
  await response.body.dump();
  const echoed = contentDigest(response);
  if (echoed !== undefined && echoed !== descriptor.digest) {
    throw new IntegrityError(
      'REGISTRY_DIGEST_MISMATCH',
      `${client.domain} stored ${what} as ${echoed}, not ${descriptor.digest}`,
      { hint: 'the registry changed the manifest; it cannot hold this image unchanged' },
    );
  }
  // A registry with the referrers API says so by echoing the subject it indexed.
  return { subjectIndexed: response.headers['oci-subject'] !== undefined };
}

/** deleteManifest removes a manifest by digest (tags pointing at it go with it). */
export async function deleteManifest(
  client: RegistryClient,
  path: string,
  digest: string,
  what: string,
): Promise<void> {
  const response = await client.request({
    method: 'DELETE',
    path: manifestPath(path, digest),
    scopes: [repositoryScope(path, ['delete'])],
  });
  if (response.status !== 202 && response.status !== 200) {
    throw await responseError(response, what, client.domain);
  }
  await response.body.dump();
}
