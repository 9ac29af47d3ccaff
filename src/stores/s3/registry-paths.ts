import { parseDigest, splitDigest, type Digest } from '../../core/digest.js';
import { IntegrityError } from '../../core/errors.js';

/** Where the Distribution registry keeps everything, on disk and in a bucket alike. */
export const REGISTRY_ROOT = 'docker/registry/v2';

const repositories = `${REGISTRY_ROOT}/repositories/`;

function digestPath(digest: string): string {
  const { algorithm, hex } = splitDigest(digest);
  return `${algorithm}/${hex}`;
}

/** blobDataKey: `blobs/sha256/<first two hex>/<hex>/data`, where every blob and manifest lives. */
export function blobDataKey(digest: string): string {
  const { algorithm, hex } = splitDigest(digest);
  return `${REGISTRY_ROOT}/blobs/${algorithm}/${hex.slice(0, 2)}/${hex}/data`;
}

/** layerLinkKey: the link that makes a layer or config blob part of a repository. */
export function layerLinkKey(repository: string, digest: string): string {
  return `${repositories}${repository}/_layers/${digestPath(digest)}/link`;
}

/** revisionLinkKey: the link that makes a manifest part of a repository. */
export function revisionLinkKey(repository: string, digest: string): string {
  return `${repositories}${repository}/_manifests/revisions/${digestPath(digest)}/link`;
}

/** tagCurrentKey: the link a tag points through. */
export function tagCurrentKey(repository: string, tag: string): string {
  return `${repositories}${repository}/_manifests/tags/${tag}/current/link`;
}

/** tagIndexKey: the registry's record that a tag has pointed at a manifest. */
export function tagIndexKey(repository: string, tag: string, digest: string): string {
  return `${repositories}${repository}/_manifests/tags/${tag}/index/${digestPath(digest)}/link`;
}

/** The prefix under which every tag link of every repository is found. */
export const REPOSITORIES_PREFIX = repositories;

/** parseTagCurrentKey reads repository and tag back from a tag's current link key. */
export function parseTagCurrentKey(key: string): { repository: string; tag: string } | undefined {
  if (!key.startsWith(repositories)) return undefined;
  const match = /^(.+)\/_manifests\/tags\/([^/]+)\/current\/link$/.exec(
    key.slice(repositories.length),
  );
  return match ? { repository: match[1]!, tag: match[2]! } : undefined;
}

/**
 * linkContent is what a link file holds: the digest and nothing else. The registry answers
 * 500 for a tag link that ends in a newline.
 */
export function linkContent(digest: string): string {
  return digest;
}

/** parseLink reads a link file, tolerating the whitespace other tools may leave. */
export function parseLink(bytes: Uint8Array, key: string): Digest {
  const text = Buffer.from(bytes).toString('utf8').trim();
  try {
    return parseDigest(text);
  } catch (error) {
    throw new IntegrityError('LINK_INVALID', `${key} does not hold a digest`, {
      cause: error,
      hint: 'the registry storage is damaged; re-push that tag',
    });
  }
}
