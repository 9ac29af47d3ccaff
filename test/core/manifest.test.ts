import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { ExitCode, IntegrityError, UnsupportedError } from '../../src/core/errors.js';
import {
  inferManifestMediaType,
  isAttestation,
  manifestChildren,
  parseManifest,
} from '../../src/core/manifest.js';
import { MediaType } from '../../src/core/media-types.js';
import type { Descriptor } from '../../src/core/schemas.js';

const encoder = new TextEncoder();
const hex = (c: string) => c.repeat(64);

function descriptor(mediaType: string, c: string, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: `sha256:${hex(c)}`, size: 100, ...extra };
}

const ociConfig = descriptor(MediaType.ociConfig, 'c');
const dockerConfig = descriptor(MediaType.dockerConfig, 'c');
const ociLayer = descriptor(MediaType.ociLayerGzip, 'd');
const dockerLayer = descriptor(MediaType.dockerLayerGzip, 'd');

const ociImageBody = { schemaVersion: 2, config: ociConfig, layers: [ociLayer] };
const dockerImageBody = { schemaVersion: 2, config: dockerConfig, layers: [dockerLayer] };
const indexBody = {
  schemaVersion: 2,
  manifests: [
    descriptor(MediaType.ociManifest, 'e', { platform: { os: 'linux', architecture: 'amd64' } }),
  ],
};
const dockerListBody = {
  schemaVersion: 2,
  manifests: [
    descriptor(MediaType.dockerManifest, 'e', { platform: { os: 'linux', architecture: 'amd64' } }),
  ],
};
const schema1Body = {
  schemaVersion: 1,
  name: 'library/a',
  tag: 'latest',
  architecture: 'amd64',
  fsLayers: [{ blobSum: `sha256:${hex('f')}` }],
  history: [{ v1Compatibility: '{}' }],
};

const bytesOf = (body: unknown) => encoder.encode(JSON.stringify(body));

function expectManifestInvalid(run: () => unknown): IntegrityError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(IntegrityError);
  const error = caught as IntegrityError;
  expect(error.code).toBe('MANIFEST_INVALID');
  expect(error.exitCode).toBe(ExitCode.integrity);
  return error;
}

describe('inferManifestMediaType: case A7, no mediaType in the body', () => {
  it('takes a body with manifests for an index', () => {
    expect(inferManifestMediaType(indexBody)).toBe(MediaType.ociIndex);
  });

  it('takes an index of Docker manifests for a Docker manifest list', () => {
    expect(inferManifestMediaType(dockerListBody)).toBe(MediaType.dockerManifestList);
  });

  it('takes an empty manifests list for an OCI index', () => {
    expect(inferManifestMediaType({ schemaVersion: 2, manifests: [] })).toBe(MediaType.ociIndex);
  });

  it('separates Docker from OCI by config.mediaType', () => {
    expect(inferManifestMediaType(dockerImageBody)).toBe(MediaType.dockerManifest);
    expect(inferManifestMediaType(ociImageBody)).toBe(MediaType.ociManifest);
    const artifact = { ...ociImageBody, config: descriptor('application/vnd.example+json', 'c') };
    expect(inferManifestMediaType(artifact)).toBe(MediaType.ociManifest);
  });

  it('takes schemaVersion 1 for the legacy format, signed or not', () => {
    expect(inferManifestMediaType(schema1Body)).toBe(MediaType.dockerSchema1);
    expect(inferManifestMediaType({ ...schema1Body, signatures: [] })).toBe(
      MediaType.dockerSchema1Signed,
    );
  });

  it('prefers the body mediaType over everything else', () => {
    const body = { ...ociImageBody, mediaType: MediaType.dockerManifest };
    expect(inferManifestMediaType(body, MediaType.ociIndex)).toBe(MediaType.dockerManifest);
  });

  it('lets the body win over a Content-Type that contradicts it', () => {
    expect(inferManifestMediaType(ociImageBody, MediaType.ociIndex)).toBe(MediaType.ociManifest);
    expect(inferManifestMediaType(dockerImageBody, MediaType.ociManifest)).toBe(
      MediaType.dockerManifest,
    );
    expect(inferManifestMediaType(indexBody, MediaType.dockerManifest)).toBe(MediaType.ociIndex);
    expect(inferManifestMediaType(schema1Body, MediaType.ociManifest)).toBe(
      MediaType.dockerSchema1,
    );
  });

  it('uses a Content-Type that agrees with the body to tell the index family', () => {
    expect(inferManifestMediaType(indexBody, MediaType.dockerManifestList)).toBe(
      MediaType.dockerManifestList,
    );
  });

  it('falls back to the Content-Type only when the body cannot tell', () => {
    expect(inferManifestMediaType({ schemaVersion: 2 }, MediaType.ociManifest)).toBe(
      MediaType.ociManifest,
    );
    expect(() => inferManifestMediaType({ schemaVersion: 2 })).toThrow(UnsupportedError);
    expect(() => inferManifestMediaType({ schemaVersion: 2 })).toThrow(
      expect.objectContaining({ code: 'MANIFEST_UNKNOWN_KIND' }),
    );
  });
});

describe('parseManifest', () => {
  it('parses each kind without a mediaType field', () => {
    expect(parseManifest(bytesOf(indexBody))).toMatchObject({
      kind: 'index',
      mediaType: MediaType.ociIndex,
    });
    expect(parseManifest(bytesOf(ociImageBody))).toMatchObject({
      kind: 'image',
      mediaType: MediaType.ociManifest,
    });
    expect(parseManifest(bytesOf(dockerImageBody))).toMatchObject({
      kind: 'image',
      mediaType: MediaType.dockerManifest,
    });
    expect(parseManifest(bytesOf(schema1Body))).toMatchObject({
      kind: 'schema1',
      mediaType: MediaType.dockerSchema1,
    });
  });

  it('lets the body win over a contradicting declared type', () => {
    const parsed = parseManifest(bytesOf(dockerImageBody), MediaType.ociIndex);
    expect(parsed.kind).toBe('image');
    expect(parsed.mediaType).toBe(MediaType.dockerManifest);
    const index = parseManifest(bytesOf(indexBody), MediaType.ociManifest);
    expect(index.kind).toBe('index');
    expect(index.mediaType).toBe(MediaType.ociIndex);
  });

  it('keeps the exact bytes, odd whitespace and key order included', () => {
    const text =
      '{\n\t"schemaVersion" :2 ,\r\n  "layers":[ ],   "config":' +
      `${JSON.stringify(ociConfig)}` +
      ', "annotations": {"z": "1", "a": "\\u00e9"}   }\n\n';
    const bytes = encoder.encode(text);
    const original = Uint8Array.from(bytes);
    const parsed = parseManifest(bytes);
    expect(parsed.kind).toBe('image');
    expect(parsed.bytes).toEqual(original);
    expect(Buffer.from(parsed.bytes).toString('utf8')).toBe(text);
    expect(sha256Digest(parsed.bytes)).toBe(sha256Digest(original));
    expect(sha256Digest(parsed.bytes)).not.toBe(sha256Digest(JSON.stringify(JSON.parse(text))));
  });

  it('keeps a leading byte order mark in the bytes while parsing past it', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...bytesOf(ociImageBody)]);
    const parsed = parseManifest(bytes);
    expect(parsed.kind).toBe('image');
    expect(parsed.bytes).toEqual(bytes);
  });

  it('keeps fields the schema does not know in the bytes', () => {
    const bytes = bytesOf({ ...ociImageBody, 'x-extra': { nested: true } });
    expect(Buffer.from(parseManifest(bytes).bytes).toString()).toContain('x-extra');
  });

  it('returns the typed content of an index and an image', () => {
    const index = parseManifest(bytesOf(indexBody));
    if (index.kind !== 'index') throw new Error('expected an index');
    expect(index.index.manifests).toHaveLength(1);
    expect(manifestChildren(index)).toEqual(index.index.manifests);

    const image = parseManifest(bytesOf(ociImageBody));
    if (image.kind !== 'image') throw new Error('expected an image');
    expect(manifestChildren(image)).toEqual([ociConfig, ociLayer]);
  });

  it('refuses bytes that are not JSON or not an object', () => {
    expectManifestInvalid(() => parseManifest(encoder.encode('{"schemaVersion": 2')));
    expectManifestInvalid(() => parseManifest(encoder.encode('[]')));
    expectManifestInvalid(() => parseManifest(encoder.encode('null')));
    expectManifestInvalid(() => parseManifest(encoder.encode('"text"')));
  });

  it('refuses a body that does not match the schema of its kind', () => {
    expectManifestInvalid(() => parseManifest(bytesOf({ ...ociImageBody, layers: 'no' })));
    expectManifestInvalid(() => parseManifest(bytesOf({ ...ociImageBody, schemaVersion: 3 })));
    const badDigest = { ...ociImageBody, config: { ...ociConfig, digest: 'nope' } };
    expectManifestInvalid(() => parseManifest(bytesOf(badDigest)));
    expectManifestInvalid(() => parseManifest(bytesOf({ schemaVersion: 2, manifests: [{}] })));
    expectManifestInvalid(() => parseManifest(bytesOf({ schemaVersion: 1 })));
  });

  it('refuses a body whose own mediaType names a kind its shape contradicts', () => {
    const imageAsIndex = { ...ociImageBody, mediaType: MediaType.ociIndex };
    expectManifestInvalid(() => parseManifest(bytesOf(imageAsIndex)));
    const indexAsImage = { ...indexBody, mediaType: MediaType.ociManifest };
    expect(expectManifestInvalid(() => parseManifest(bytesOf(indexAsImage))).message).toContain(
      'index',
    );
    const schema1AsImage = { ...ociImageBody, mediaType: MediaType.dockerSchema1Signed };
    expectManifestInvalid(() => parseManifest(bytesOf(schema1AsImage)));
  });

  it('names what was parsed in its errors', () => {
    const error = expectManifestInvalid(() =>
      parseManifest(encoder.encode('{'), undefined, 'manifest of ghcr.io/a/b:1'),
    );
    expect(error.message).toContain('ghcr.io/a/b:1');
  });
});

describe('isAttestation', () => {
  const platform = { os: 'linux', architecture: 'amd64' };

  it('recognizes the BuildKit annotation', () => {
    const annotations = { 'vnd.docker.reference.type': 'attestation-manifest' };
    expect(isAttestation(descriptor(MediaType.ociManifest, 'a', { annotations, platform }))).toBe(
      true,
    );
  });

  it('recognizes the unknown/unknown platform', () => {
    const unknown = { os: 'unknown', architecture: 'unknown' };
    expect(isAttestation(descriptor(MediaType.ociManifest, 'a', { platform: unknown }))).toBe(true);
  });

  it('does not take images for attestations', () => {
    expect(isAttestation(descriptor(MediaType.ociManifest, 'a', { platform }))).toBe(false);
    expect(isAttestation(descriptor(MediaType.ociManifest, 'a'))).toBe(false);
    const other = { 'vnd.docker.reference.type': 'something-else' };
    expect(
      isAttestation(descriptor(MediaType.ociManifest, 'a', { annotations: other, platform })),
    ).toBe(false);
    const half = { os: 'linux', architecture: 'unknown' };
    expect(isAttestation(descriptor(MediaType.ociManifest, 'a', { platform: half }))).toBe(false);
  });
});
