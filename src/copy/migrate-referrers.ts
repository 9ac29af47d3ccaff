import { parseDigest } from '../core/digest.js';
import { Reference } from '../core/reference.js';
import { isReferrerLister, type Store } from '../core/store.js';
import type { CopyRequest } from './copy-images.js';

/** How deep referrers of referrers are followed (a signature of an SBOM of an image). */
const MAX_DEPTH = 4;

/**
 * referrerRequests lists, by digest, the manifests that refer to an image (signatures, SBOMs,
 * attestations) and theirs in turn, as copy requests into the image's target repository. A
 * source that cannot list referrers has none. They come after their subject, so a copy puts
 * the subject first.
 */
export async function referrerRequests(
  source: Store,
  request: CopyRequest,
  digest: string,
  depth = 0,
): Promise<CopyRequest[]> {
  if (!isReferrerLister(source) || depth >= MAX_DEPTH) return [];
  const from = request.source;
  const to = request.target ?? request.source;
  const requests: CopyRequest[] = [];
  for (const referrer of await source.referrers(source.locate(from).repository, digest)) {
    const referrerDigest = parseDigest(referrer.digest);
    const next: CopyRequest = {
      source: new Reference(from.domain, from.path, undefined, referrerDigest),
      target: new Reference(to.domain, to.path, undefined, referrerDigest),
    };
    requests.push(next, ...(await referrerRequests(source, next, referrer.digest, depth + 1)));
  }
  return requests;
}
