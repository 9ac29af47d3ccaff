import { minimatch } from 'minimatch';

import { parseDigest } from '../core/digest.js';
import { DEFAULT_DOMAIN, Reference } from '../core/reference.js';
import type { Descriptor } from '../core/schemas.js';
import type { ImageEntry, Store } from '../core/store.js';

/** A store that names images as an OCI layout does: any string, or no name at all. */
export interface LayoutNamer {
  tagName(name: string, descriptor: Descriptor): void;
}

/**
 * holdsLayoutNames tells a destination that keeps raw layout names (`v1`) and unnamed images
 * (an OCI layout) from one that can hold only `repository:tag` names (a registry).
 */
export function holdsLayoutNames(store: Store): store is Store & LayoutNamer {
  return typeof (store as Partial<LayoutNamer>).tagName === 'function';
}

/** One image a migrate considers, with how it is named at the source. */
export interface MigrateEntry {
  /** What summaries and filters call it: the raw name, the reference, or `@<digest>`. */
  label: string;
  descriptor: Descriptor;
  reference?: Reference;
  /** The name as the source holds it, when it is not the reference's canonical form. */
  rawName?: string;
}

// Unnamed images have no repository; stores that hold them look them up by digest only.
const UNNAMED_REPOSITORY = 'library/unnamed';

/** byDigest names an entry's manifest by digest, in its repository when it has one. */
export function byDigest(entry: MigrateEntry): Reference {
  const base = entry.reference ?? new Reference(DEFAULT_DOMAIN, UNNAMED_REPOSITORY);
  return new Reference(base.domain, base.path, undefined, parseDigest(entry.descriptor.digest));
}

function toEntry(image: ImageEntry): MigrateEntry {
  const reference = image.reference;
  const canonical = reference?.toString();
  const rawName = image.name !== undefined && image.name !== canonical ? image.name : undefined;
  const label = rawName ?? canonical ?? `@${image.descriptor.digest}`;
  return { label, descriptor: image.descriptor, reference, rawName };
}

/** The names a --include or --exclude glob is matched against; any match counts. */
function candidateNames(entry: MigrateEntry): string[] {
  const names = [entry.label, `@${entry.descriptor.digest}`];
  const reference = entry.reference;
  if (reference) {
    names.push(reference.toString(), reference.familiar());
    if (reference.tag !== undefined) names.push(`${reference.path}:${reference.tag}`);
  }
  return names;
}

function matchesAny(entry: MigrateEntry, patterns: string[]): boolean {
  const names = candidateNames(entry);
  return patterns.some((pattern) => names.some((name) => minimatch(name, pattern)));
}

/** What listing and filtering the source found. */
export interface Selection {
  selected: MigrateEntry[];
  excluded: number;
}

/**
 * selectImages lists every image of a store and keeps those whose `repo:tag` (in full,
 * familiar or path form, or the raw layout name) matches an --include glob, if any were
 * given, and no --exclude glob.
 */
export async function selectImages(
  store: Store,
  include: string[] = [],
  exclude: string[] = [],
): Promise<Selection> {
  const selection: Selection = { selected: [], excluded: 0 };
  for await (const image of store.listImages()) {
    const entry = toEntry(image);
    const wanted =
      (include.length === 0 || matchesAny(entry, include)) && !matchesAny(entry, exclude);
    if (wanted) selection.selected.push(entry);
    else selection.excluded += 1;
  }
  return selection;
}
