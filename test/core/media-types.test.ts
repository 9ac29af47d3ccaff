import { describe, expect, it } from 'vitest';

import {
  detectCompression,
  isForeignLayer,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  layerCompression,
  layerMediaType,
  manifestMediaTypes,
  MediaType,
} from '../../src/core/media-types.js';

describe('manifest media types', () => {
  it('sorts each manifest type into one kind', () => {
    for (const type of manifestMediaTypes) {
      const kinds = [isIndexMediaType, isImageManifestMediaType, isSchema1MediaType].filter((is) =>
        is(type),
      );
      expect(kinds, type).toHaveLength(1);
      expect(isManifestMediaType(type)).toBe(true);
    }
  });

  it('does not take configs, layers or nothing for manifests', () => {
    for (const type of [MediaType.ociConfig, MediaType.dockerLayerGzip, 'text/plain', undefined]) {
      expect(isManifestMediaType(type)).toBe(false);
      expect(isIndexMediaType(type)).toBe(false);
      expect(isImageManifestMediaType(type)).toBe(false);
    }
  });

  it('asks for indexes before images in an Accept header', () => {
    expect(manifestMediaTypes.indexOf(MediaType.ociIndex)).toBeLessThan(
      manifestMediaTypes.indexOf(MediaType.ociManifest),
    );
  });
});

describe('layer media types', () => {
  it.each([
    [MediaType.ociLayer, 'none'],
    [MediaType.ociLayerGzip, 'gzip'],
    [MediaType.ociLayerZstd, 'zstd'],
    [MediaType.ociLayerNondistributableGzip, 'gzip'],
    [MediaType.dockerLayer, 'none'],
    [MediaType.dockerLayerGzip, 'gzip'],
    [MediaType.dockerLayerZstd, 'zstd'],
    [MediaType.dockerForeignLayer, 'gzip'],
    ['application/octet-stream', 'none'],
  ])('%s is compressed with %s', (type, compression) => {
    expect(layerCompression(type)).toBe(compression);
  });

  it('names a layer type in each family that declares the same compression', () => {
    for (const family of ['oci', 'docker'] as const) {
      for (const compression of ['none', 'gzip', 'zstd'] as const) {
        const type = layerMediaType(family, compression);
        expect(layerCompression(type)).toBe(compression);
        expect(type.includes('docker')).toBe(family === 'docker');
      }
    }
  });

  it('recognizes foreign and non-distributable layers', () => {
    expect(isForeignLayer(MediaType.dockerForeignLayer)).toBe(true);
    expect(isForeignLayer(MediaType.ociLayerNondistributable)).toBe(true);
    expect(isForeignLayer(MediaType.ociLayerGzip)).toBe(false);
  });
});

describe('detectCompression', () => {
  it('reads the magic numbers', () => {
    expect(detectCompression(new Uint8Array([0x1f, 0x8b, 0x08, 0x00]))).toBe('gzip');
    expect(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00]))).toBe('zstd');
    expect(detectCompression(new TextEncoder().encode('ustar'))).toBe('none');
  });

  it('says none for heads too short to tell', () => {
    expect(detectCompression(new Uint8Array())).toBe('none');
    expect(detectCompression(new Uint8Array([0x1f]))).toBe('none');
    expect(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f]))).toBe('none');
  });
});
