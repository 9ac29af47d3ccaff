import { beforeAll, describe, expect, it } from 'vitest';

import { migrateStores } from '../../src/copy/migrate.js';
import { openStore } from '../../src/stores/open-store.js';
import {
  fixtureImages,
  newBucket,
  openS3,
  serveRegistry,
  skopeoCopyAll,
  startS3,
  s3ServerName,
  type S3Peer,
} from './s3-helpers.js';

const EXPECTED = ['alpha', 'base', 'beta', 'empty-layer', 'links', 'multi'].map(
  (name) => `library/${name}:1.0`,
);

describe(`the registry layout in ${s3ServerName}`, () => {
  let ceph: S3Peer;

  beforeAll(async () => {
    ceph = await startS3();
  }, 120_000);

  it("is served by Distribution's s3 driver, and skopeo copies every image", async () => {
    const bucket = await newBucket(ceph, 'reglayout');
    const source = await openStore({ kind: 'dir', path: fixtureImages }, { mode: 'read' });
    const destination = await openS3(ceph.endpoint, bucket, 'root', 'write', 'registry');
    const summary = await migrateStores(source, destination);
    await destination.close();
    expect(summary.counts.moved).toBe(EXPECTED.length);

    // Read back by regtool, the layout is detected and lists the same images.
    const reread = await openS3(ceph.endpoint, bucket, 'root', 'read');
    const listed: string[] = [];
    for await (const image of reread.listImages())
      listed.push(`${image.reference?.path}:${image.reference?.tag}`);
    expect(listed.sort()).toEqual(EXPECTED);

    // Blob GETs answer with a redirect to a presigned URL on the gateway: skopeo follows it.
    const registry = await serveRegistry([
      's3:',
      `  accesskey: ${ceph.accessKeyId}`,
      `  secretkey: ${ceph.secretAccessKey}`,
      `  region: ${ceph.region}`,
      `  regionendpoint: ${ceph.endpoint}`,
      `  bucket: ${bucket}`,
      '  secure: false',
      '  v4auth: true',
      '  rootdirectory: /root',
    ]);
    try {
      expect(await skopeoCopyAll(registry.host)).toEqual(EXPECTED);
    } finally {
      await registry.stop();
    }
  }, 120_000);
});
