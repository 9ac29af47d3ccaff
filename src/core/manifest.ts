import { IntegrityError, UnsupportedError } from './errors.js';
import {
  isImageManifestMediaType,
  isIndexMediaType,
  isSchema1MediaType,
  MediaType,
} from './media-types.js';
import {
  imageManifestSchema,
  indexSchema,
  schema1ManifestSchema,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type Schema1Manifest,
} from './schemas.js';

/** A manifest parsed from its exact bytes, which are kept so digests stay stable. */
export type ParsedManifest =
  | { kind: 'index'; mediaType: string; bytes: Uint8Array; index: ImageIndex }
  | { kind: 'image'; mediaType: string; bytes: Uint8Array; manifest: ImageManifest }
  | { kind: 'schema1'; mediaType: string; bytes: Uint8Array; manifest: Schema1Manifest };

const decoder = new TextDecoder('utf-8', { fatal: false });

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new IntegrityError('MANIFEST_INVALID', `${what} is not valid JSON`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new IntegrityError('MANIFEST_INVALID', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * inferManifestMediaType decides a manifest's media type from its body: the body's own
 * `mediaType` when present; else `manifests` means an index, `config.mediaType` separates
 * OCI from Docker, and `schemaVersion` 1 means the legacy format. A declared type (a
 * Content-Type header) is used only when the body cannot tell.
 */
export function inferManifestMediaType(body: Record<string, unknown>, declared?: string): string {
  if (typeof body.mediaType === 'string' && body.mediaType !== '') return body.mediaType;
  if (body.schemaVersion === 1) {
    return 'signatures' in body ? MediaType.dockerSchema1Signed : MediaType.dockerSchema1;
  }
  if (Array.isArray(body.manifests)) {
    const entries = body.manifests as Array<{ mediaType?: string }>;
    if (declared && isIndexMediaType(declared)) return declared;
    const docker =
      entries.length > 0 && entries.every((e) => e.mediaType === MediaType.dockerManifest);
    return docker ? MediaType.dockerManifestList : MediaType.ociIndex;
  }
  const config = body.config as { mediaType?: string } | undefined;
  if (config && typeof config === 'object') {
    return config.mediaType === MediaType.dockerConfig
      ? MediaType.dockerManifest
      : MediaType.ociManifest;
  }
  if (declared) return declared;
  throw new UnsupportedError('MANIFEST_UNKNOWN_KIND', 'cannot tell what kind of manifest this is', {
    hint: 'a manifest needs "manifests", "config" or "schemaVersion": 1',
  });
}

type ManifestKind = ParsedManifest['kind'];

/** The kind a media type names; a type regtool does not know leaves it to the body's shape. */
function manifestKind(mediaType: string, body: Record<string, unknown>): ManifestKind {
  if (isSchema1MediaType(mediaType)) return 'schema1';
  if (isIndexMediaType(mediaType)) return 'index';
  if (isImageManifestMediaType(mediaType)) return 'image';
  return Array.isArray(body.manifests) ? 'index' : 'image';
}

/**
 * parseManifest parses a manifest or index from its exact bytes. `declared` is the media type
 * that the source claimed; when the body contradicts it, the body wins.
 */
export function parseManifest(
  bytes: Uint8Array,
  declared?: string,
  what = 'manifest',
): ParsedManifest {
  const body = parseJson(bytes, what);
  const mediaType = inferManifestMediaType(body, declared);
  const fail = (error: unknown) =>
    new IntegrityError('MANIFEST_INVALID', `${what} (${mediaType}) does not match its schema`, {
      cause: error,
      hint: 'the manifest is malformed; check the tool that wrote it',
    });
  const kind = manifestKind(mediaType, body);
  if (kind === 'schema1') {
    const result = schema1ManifestSchema.safeParse(body);
    if (!result.success) throw fail(result.error);
    return { kind: 'schema1', mediaType, bytes, manifest: result.data };
  }
  const shapedAsIndex = Array.isArray(body.manifests);
  if ((kind === 'index') !== shapedAsIndex) {
    const shape = shapedAsIndex ? 'an index' : 'an image manifest';
    throw new IntegrityError(
      'MANIFEST_INVALID',
      `${what} says it is ${mediaType} but is ${shape}`,
      {
        hint: 'the manifest is malformed; check the tool that wrote it',
      },
    );
  }
  if (kind === 'index') {
    const result = indexSchema.safeParse(body);
    if (!result.success) throw fail(result.error);
    return { kind: 'index', mediaType, bytes, index: result.data };
  }
  const result = imageManifestSchema.safeParse(body);
  if (!result.success) throw fail(result.error);
  return { kind: 'image', mediaType, bytes, manifest: result.data };
}

/** The descriptors a manifest points at: manifests of an index; config then layers of an image. */
export function manifestChildren(
  parsed: Exclude<ParsedManifest, { kind: 'schema1' }>,
): Descriptor[] {
  if (parsed.kind === 'index') return parsed.index.manifests;
  return [parsed.manifest.config, ...parsed.manifest.layers];
}

/** isAttestation tells a BuildKit attestation manifest entry in an index from an image. */
export function isAttestation(descriptor: Descriptor): boolean {
  const type = descriptor.annotations?.['vnd.docker.reference.type'];
  if (type === 'attestation-manifest') return true;
  return descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown';
}
