/** Media types of the OCI image spec and of Docker's image manifest v2. */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** The bytes of the OCI empty descriptor's content, `{}`. */
export const EMPTY_JSON = '{}';

/** Every manifest media type regtool reads, most preferred first, for an Accept header. */
export const manifestMediaTypes: readonly string[] = [
  MediaType.ociIndex,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.dockerManifest,
  MediaType.dockerSchema1Signed,
  MediaType.dockerSchema1,
];

/** isIndexMediaType: an OCI index or a Docker manifest list. */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

/** isImageManifestMediaType: an OCI or Docker schema 2 image manifest. */
export function isImageManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

/** isSchema1MediaType: Docker's legacy schema 1 manifest, signed or not. */
export function isSchema1MediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.dockerSchema1 || mediaType === MediaType.dockerSchema1Signed;
}

/** isManifestMediaType: anything a manifests endpoint can hold. */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && manifestMediaTypes.includes(mediaType);
}

export type Compression = 'none' | 'gzip' | 'zstd';

/** The compression a layer media type declares; unknown types count as none. */
export function layerCompression(mediaType: string): Compression {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  return 'none';
}

/** isForeignLayer: a layer that registries may not hold (Windows base layers). */
export function isForeignLayer(mediaType: string): boolean {
  return mediaType === MediaType.dockerForeignLayer || mediaType.includes('nondistributable');
}

/** The layer media type for a compression, in the family (OCI or Docker) of a manifest type. */
export function layerMediaType(family: 'oci' | 'docker', compression: Compression): string {
  if (family === 'docker') {
    if (compression === 'gzip') return MediaType.dockerLayerGzip;
    if (compression === 'zstd') return MediaType.dockerLayerZstd;
    return MediaType.dockerLayer;
  }
  if (compression === 'gzip') return MediaType.ociLayerGzip;
  if (compression === 'zstd') return MediaType.ociLayerZstd;
  return MediaType.ociLayer;
}

/** detectCompression looks at a blob's first bytes: gzip and zstd have magic numbers. */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (
    head.length >= 4 &&
    head[0] === 0x28 &&
    head[1] === 0xb5 &&
    head[2] === 0x2f &&
    head[3] === 0xfd
  )
    return 'zstd';
  return 'none';
}
