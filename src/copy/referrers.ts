import { parseDigest } from '../core/digest.js';
import { Reference } from '../core/reference.js';
import { isReferrerLister, type Store } from '../core/store.js';
import { copyImages, type CopyOptions, type CopySummary } from './copy-images.js';

/** How deep referrers of referrers are followed (a signature of an SBOM of an image). */
const MAX_DEPTH = 4;

/**
 * copyReferrers copies the manifests that refer to an image's root (signatures, SBOMs,
 * attestations), and theirs in turn, by digest. A source that cannot list referrers has none
 * to copy.
 */
export async function copyReferrers(
  source: Store,
  destination: Store,
  image: { source: Reference; target: Reference; digest: string },
  options: CopyOptions,
  depth = 0,
): Promise<CopySummary[]> {
  if (!isReferrerLister(source) || depth >= MAX_DEPTH) return [];
  const located = source.locate(image.source);
  const summaries: CopySummary[] = [];
  for (const referrer of await source.referrers(located.repository, image.digest)) {
    const digest = parseDigest(referrer.digest);
    const from = new Reference(image.source.domain, image.source.path, undefined, digest);
    const to = new Reference(image.target.domain, image.target.path, undefined, digest);
    summaries.push(await copyImages(source, destination, [{ source: from, target: to }], options));
    const next = { source: from, target: to, digest: referrer.digest };
    summaries.push(...(await copyReferrers(source, destination, next, options, depth + 1)));
  }
  return summaries;
}
