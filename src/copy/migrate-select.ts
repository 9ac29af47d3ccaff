import { minimatch } from 'minimatch';

import { parseDigest } from '../core/digest.js';
import { DEFAULT_DOMAIN, Reference } from '../core/reference.js';
import type { Descriptor } from '../core/schemas.js';
import type { ImageEntry, ListFilter, Store } from '../core/store.js';

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

/** The forms of a reference that --include and --exclude globs are matched against. */
function referenceNames(reference: Reference): string[] {
  const names = [reference.toString(), reference.familiar()];
  if (reference.tag !== undefined) names.push(`${reference.path}:${reference.tag}`);
  return names;
}

/** The names a --include or --exclude glob is matched against; any match counts. */
function candidateNames(entry: MigrateEntry): string[] {
  const names = [entry.label, `@${entry.descriptor.digest}`];
  if (entry.reference) names.push(...referenceNames(entry.reference));
  return names;
}

function matchesAny(entry: MigrateEntry, patterns: string[]): boolean {
  const names = candidateNames(entry);
  return patterns.some((pattern) => names.some((name) => minimatch(name, pattern)));
}

/** Whether a glob may match a name of the form `@<digest>`: unless it starts with a literal. */
function mayMatchDigest(pattern: string): boolean {
  return !/^[^@*?[{!+\\]/.test(pattern);
}

const FOLDED_PARTS = /\/\/|(^|\/)\.\.?(\/|$)/;

/**
 * mayMatchRepository tells whether a glob may match `REPOSITORY:TAG` for some tag. It answers
 * no only when sure: each `/`-separated part of the glob matches one part of the name, so the
 * parts before the last must match the repository's, and the last must match `LAST:TAG`,
 * either at a literal `:` or with a wildcard after a literal start that `LAST` begins with.
 * A glob with empty, `.` or `..` parts may match anything: the matcher folds such parts away.
 */
export function mayMatchRepository(repository: string, pattern: string): boolean {
  if (/\*\*|[{}()!\\]/.test(pattern) || FOLDED_PARTS.test(pattern)) return true;
  const parts = pattern.split('/');
  const names = repository.split('/');
  if (parts.length !== names.length) return false;
  const last = parts.pop()!;
  const lastName = names.pop()!;
  if (!parts.every((part, i) => minimatch(names[i]!, part))) return false;
  if (last.includes('[')) return true;
  const colon = last.indexOf(':');
  if (colon >= 0) return minimatch(lastName, last.slice(0, colon));
  const wildcard = last.search(/[*?]/);
  return wildcard >= 0 && lastName.startsWith(last.slice(0, wildcard));
}

/** The forms of a repository's name that --include globs are matched against. */
function repositoryNames(repository: Reference): string[] {
  return [repository.toString(), repository.familiar(), repository.path];
}

/**
 * listFilter lets a store skip, before it looks an image up, a repository no --include glob
 * can match and a name that is left out whatever its digest; `onSkipped` counts such names.
 */
function listFilter(include: string[], exclude: string[], onSkipped: () => void): ListFilter {
  const byDigest = include.some(mayMatchDigest);
  return {
    wantsRepository: (repository) =>
      include.length === 0 ||
      byDigest ||
      repositoryNames(repository).some((name) =>
        include.some((pattern) => mayMatchRepository(name, pattern)),
      ),
    wantsName: (reference) => {
      const names = referenceNames(reference);
      const matches = (patterns: string[]) =>
        patterns.some((pattern) => names.some((name) => minimatch(name, pattern)));
      const wanted = include.length === 0 || byDigest || matches(include);
      if (wanted && !matches(exclude)) return true;
      onSkipped();
      return false;
    },
  };
}

/** What listing and filtering the source found. */
export interface Selection {
  selected: MigrateEntry[];
  excluded: number;
}

/**
 * selectImages lists every image of a store and keeps those whose `repo:tag` (in full,
 * familiar or path form, or the raw layout name) matches an --include glob, if any were
 * given, and no --exclude glob. A store may leave out of its listing the repositories no
 * --include glob can match; their images are not counted as excluded.
 */
export async function selectImages(
  store: Store,
  include: string[] = [],
  exclude: string[] = [],
): Promise<Selection> {
  const selection: Selection = { selected: [], excluded: 0 };
  const filter = listFilter(include, exclude, () => (selection.excluded += 1));
  for await (const image of store.listImages(filter)) {
    const entry = toEntry(image);
    const wanted =
      (include.length === 0 || matchesAny(entry, include)) && !matchesAny(entry, exclude);
    if (wanted) selection.selected.push(entry);
    else selection.excluded += 1;
  }
  return selection;
}
