import { digestHex, splitDigest } from '../../core/digest.js';
import { sha256Digest } from '../../core/digest.js';
import { NotFoundError } from '../../core/errors.js';
import { MediaType } from '../../core/media-types.js';
import { indexSchema } from '../../core/schemas.js';
import type { Descriptor } from '../../core/schemas.js';
import { repositoryScope } from './auth.js';
import type { RegistryClient } from './client.js';
import { readAnswer, responseError } from './errors.js';
import { fetchManifest, pushManifest } from './manifests.js';

/** referrersTag is the tag the fallback scheme keeps a digest's referrers under. */
export function referrersTag(digest: string): string {
  return `${splitDigest(digest).algorithm}-${digestHex(digest)}`;
}

/**
 * listReferrers returns the manifests that refer to `digest` (signatures, SBOMs): from the
 * referrers API, or, on a registry without it, from the `sha256-<hex>` tag's index.
 */
export async function listReferrers(
  client: RegistryClient,
  path: string,
  digest: string,
): Promise<Descriptor[]> {
  const what = `referrers of ${client.domain}/${path}@${digest}`;
  const response = await client.request({
    method: 'GET',
    path: `/v2/${path}/referrers/${digest}`,
    scopes: [repositoryScope(path, ['pull'])],
    headers: { accept: 'application/vnd.oci.image.index.v1+json' },
  });
  if (response.status === 200) {
    const bytes = await readAnswer(response, what, client.domain);
    return indexSchema.parse(JSON.parse(bytes.toString('utf8'))).manifests;
  }
  if (response.status !== 404) throw await responseError(response, what, client.domain);
  await response.body.dump();
  try {
    const fallback = await fetchManifest(client, path, referrersTag(digest), what);
    return indexSchema.parse(JSON.parse(Buffer.from(fallback.bytes).toString('utf8'))).manifests;
  } catch (error) {
    if (error instanceof NotFoundError) return [];
    throw error;
  }
}

/**
 * addToReferrersTag records a manifest under its subject's `sha256-<hex>` tag, for registries
 * without the referrers API: the index there lists every referrer of the subject.
 */
export async function addToReferrersTag(
  client: RegistryClient,
  path: string,
  subject: string,
  referrer: Descriptor,
): Promise<void> {
  const tag = referrersTag(subject);
  const what = `referrers tag ${client.domain}/${path}:${tag}`;
  const existing = await listReferrers(client, path, subject);
  if (existing.some((descriptor) => descriptor.digest === referrer.digest)) return;
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [...existing, referrer],
  };
  const bytes = Buffer.from(JSON.stringify(index));
  const descriptor = {
    mediaType: MediaType.ociIndex,
    digest: sha256Digest(bytes),
    size: bytes.length,
  };
  await pushManifest(client, path, tag, descriptor, bytes, what);
}
