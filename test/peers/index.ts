/**
 * Real peers for tests that cross a process boundary: Distribution registries (open, htpasswd,
 * token auth), podman's Docker-compatible API, a Ceph RADOS Gateway for S3, and fixture images
 * written by umoci and skopeo. Each starts on first use, is shared by every test file of the run
 * through the peer directory, and is stopped by the global teardown (test/global-setup.ts).
 */
export { startRegistry } from './registry.js';
export type { RegistryAuth, RegistryOptions, RegistryPeer, TokenAuthInfo } from './registry.js';
export { startPodmanService } from './podman.js';
export type { PodmanPeer } from './podman.js';
export { startCeph } from './ceph.js';
export type { CephPeer } from './ceph.js';
export { pushFixtureImages } from './fixture-images.js';
export type { FixtureImage, FixtureImages } from './fixture-images.js';
export { s3Request } from './s3-curl.js';
export type { S3Endpoint, S3Response } from './s3-curl.js';
export { libtrustKeyId, signRegistryToken } from './token-server.js';
export { peerDir, stopAllPeers } from './peer-dir.js';
