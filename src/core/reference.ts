import { parseDigest, type Digest } from './digest.js';
import { UsageError } from './errors.js';

/** The registry that names without a domain point at, as Docker has it. */
export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainPattern = new RegExp(
  `^(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const pathPattern = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const tagPattern = /^[\w][\w.-]{0,127}$/;
const hex64 = /^[a-f0-9]{64}$/;

/** An image reference, normalized the way Docker normalizes it. */
export class Reference {
  /** The registry host, with port: `docker.io`, `localhost:5000`. */
  readonly domain: string;
  /** The repository path within the registry: `library/busybox`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;

  constructor(domain: string, path: string, tag?: string, digest?: Digest) {
    this.domain = domain;
    this.path = path;
    this.tag = tag;
    this.digest = digest;
  }

  /** The full repository name: `docker.io/library/busybox`. */
  get repository(): string {
    return `${this.domain}/${this.path}`;
  }

  /** The tag or digest that picks a manifest; digest wins when both are given. */
  get identifier(): string {
    return this.digest ?? this.tag ?? 'latest';
  }

  /** The fully qualified reference: `docker.io/library/busybox:latest`. */
  toString(): string {
    let out = this.repository;
    if (this.tag !== undefined) out += `:${this.tag}`;
    if (this.digest !== undefined) out += `@${this.digest}`;
    return out;
  }

  /** The short form Docker prints: `busybox:latest`, `ghcr.io/a/b:1`. */
  familiar(): string {
    let name = this.repository;
    if (this.domain === DEFAULT_DOMAIN) {
      // Only a single-component official name drops `library/`: `library/a/b` shortened to
      // `a/b` would parse back as the different repository `docker.io/a/b`.
      const official = this.path.slice(OFFICIAL_PREFIX.length);
      const isOfficial = this.path.startsWith(OFFICIAL_PREFIX) && !official.includes('/');
      name = isOfficial ? official : this.path;
    }
    if (this.tag !== undefined) name += `:${this.tag}`;
    if (this.digest !== undefined) name += `@${this.digest}`;
    return name;
  }

  withTag(tag: string): Reference {
    return new Reference(this.domain, this.path, parseTag(tag), undefined);
  }

  withDigest(digest: Digest): Reference {
    return new Reference(this.domain, this.path, this.tag, digest);
  }

  /** The same repository and tag or digest, moved to another registry host and path. */
  withRepository(domain: string, path: string): Reference {
    return new Reference(domain, path, this.tag, this.digest);
  }
}

function invalid(input: string, why: string): UsageError {
  const secret = passwordIn(input);
  const hide = (text: string) => (secret ? text.split(secret).join('***') : text);
  return new UsageError(
    'REFERENCE_INVALID',
    `invalid image reference "${hide(input)}": ${hide(why)}`,
    { hint: 'name images as Docker does: [HOST[:PORT]/]NAME[:TAG][@DIGEST]' },
  );
}

/**
 * passwordIn finds the password of a reference typed as a URL with credentials
 * (`user:password@host/name`), so that an error never echoes it. What follows the `@` of
 * credentials is a host and a path; that of `name:tag@sha256:…` is a digest, with no `/`.
 */
function passwordIn(input: string): string | undefined {
  const match = /^[^/@:\s]+:([^/@\s]+)@([^@]*)$/.exec(input);
  if (!match || !match[2]!.includes('/')) return undefined;
  return match[1];
}

function parseTag(tag: string, input = tag): string {
  if (!tagPattern.test(tag)) {
    throw invalid(input, `tag "${tag}" is not valid (at most 128 of A-Z a-z 0-9 _ . -)`);
  }
  return tag;
}

/** splitDomain separates the registry host from the path, with Docker's rule for what is a host. */
function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const isHost =
    slash !== -1 &&
    (first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first.toLowerCase() !== first);
  let domain = isHost ? first : DEFAULT_DOMAIN;
  let path = isHost ? name.slice(slash + 1) : name;
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  return { domain, path };
}

/**
 * parseReference parses and normalizes an image reference exactly as Docker does:
 * `busybox` → `docker.io/library/busybox:latest`. A reference with a digest and no tag gets no
 * default tag.
 */
export function parseReference(input: string, options: { defaultTag?: boolean } = {}): Reference {
  const defaultTag = options.defaultTag ?? true;
  if (input === '') throw invalid(input, 'it is empty');
  // Docker refuses only a bare 64-digit hex string, which would be read as an image ID;
  // the same string with a tag or digest is an ordinary name.
  if (hex64.test(input)) throw invalid(input, 'a 64-digit hex string is an image ID, not a name');
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    try {
      digest = parseDigest(rest.slice(at + 1));
    } catch {
      throw invalid(input, `"${rest.slice(at + 1)}" is not a valid digest`);
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = parseTag(rest.slice(colon + 1), input);
    rest = rest.slice(0, colon);
  }
  const { domain, path } = splitDomain(rest);
  // Docker measures the normalized name, so `docker.io/library/` counts for a short name.
  if (domain.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(input, `the repository name is longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  if (!domainPattern.test(domain)) throw invalid(input, `"${domain}" is not a valid registry host`);
  if (!pathPattern.test(path)) {
    const why =
      path.toLowerCase() !== path
        ? 'repository names must be lowercase'
        : `"${path}" is not a valid repository name`;
    throw invalid(input, why);
  }
  if (tag === undefined && digest === undefined && defaultTag) tag = 'latest';
  return new Reference(domain, path, tag, digest);
}

/** tryParseReference returns undefined instead of throwing. */
export function tryParseReference(input: string): Reference | undefined {
  try {
    return parseReference(input);
  } catch {
    return undefined;
  }
}

/**
 * isRepositoryPath tells whether text is repository path components (`team/app`) as Docker has
 * them.
 */
export function isRepositoryPath(text: string): boolean {
  return pathPattern.test(text);
}

/** isRegistryHost tells whether text is a registry host with an optional port (1 to 65535). */
export function isRegistryHost(text: string): boolean {
  if (!domainPattern.test(text)) return false;
  const port = /:(\d+)$/.exec(text);
  return port === null || (Number(port[1]) >= 1 && Number(port[1]) <= 65535);
}
