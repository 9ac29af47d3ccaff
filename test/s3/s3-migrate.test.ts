import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { InterruptedError } from '../../src/core/errors.js';
import type { Store } from '../../src/core/store.js';
import { migrateStores } from '../../src/copy/migrate.js';
import { verifyStore } from '../../src/copy/verify.js';
import { openStore } from '../../src/stores/open-store.js';
import {
  countingProxy,
  fixtureImages,
  newBucket,
  openS3,
  startS3,
  s3ServerName,
  type S3Peer,
} from './s3-helpers.js';

async function names(store: Store): Promise<string[]> {
  const rows: string[] = [];
  for await (const image of store.listImages()) {
    rows.push(`${image.name ?? '-'} ${image.descriptor.digest}`);
  }
  return rows.sort();
}

function openDir(path: string, mode: 'read' | 'write'): Promise<Store> {
  return openStore({ kind: 'dir', path }, { mode });
}

describe(`migrate through the S3 store on ${s3ServerName}`, () => {
  let ceph: S3Peer;

  beforeAll(async () => {
    ceph = await startS3();
  }, 120_000);

  it('dir → s3 → dir keeps every name and digest', async () => {
    const bucket = await newBucket(ceph, 'roundtrip');
    const source = await openDir(fixtureImages, 'read');
    const s3 = await openS3(ceph.endpoint, bucket, 'oci', 'write');
    const up = await migrateStores(source, s3);
    await s3.close();
    expect(up.counts.moved).toBe(up.counts.selected);
    expect(up.counts.failed).toBe(0);

    const back = join(await mkdtemp(join(tmpdir(), 'regtool-s3-back-')), 'layout');
    const fromS3 = await openS3(ceph.endpoint, bucket, 'oci', 'read');
    const destination = await openDir(back, 'write');
    await migrateStores(fromS3, destination);
    await destination.close();

    const copied = await openDir(back, 'read');
    expect(await names(copied)).toEqual(await names(source));
    expect(await names(fromS3)).toEqual(await names(source));
    expect((await verifyStore(copied)).problems).toEqual([]);
  });

  it('a re-run with nothing to do costs about one request per image', async () => {
    const bucket = await newBucket(ceph, 'noop');
    const source = await openDir(fixtureImages, 'read');
    const first = await openS3(ceph.endpoint, bucket, '', 'write');
    await migrateStores(source, first);
    await first.close();

    const proxy = await countingProxy(ceph.endpoint);
    try {
      const again = await openS3(proxy.endpoint, bucket, '', 'write');
      const summary = await migrateStores(source, again);
      await again.close();
      expect(summary.counts['up-to-date']).toBe(summary.counts.selected);
      expect(summary.blobsMoved).toBe(0);
      expect(proxy.count).toBeLessThanOrEqual(summary.counts.selected + 4);
    } finally {
      await proxy.close();
    }
  });

  it('an interrupted migrate, re-run, moves only what was missing', async () => {
    const source = await openDir(fixtureImages, 'read');
    const whole = await openS3(ceph.endpoint, await newBucket(ceph, 'whole'), '', 'write');
    const all = await migrateStores(source, whole, { jobs: 1 });
    await whole.close();

    const bucket = await newBucket(ceph, 'resume');
    const controller = new AbortController();
    const interrupted = await openS3(
      ceph.endpoint,
      bucket,
      '',
      'write',
      undefined,
      controller.signal,
    );
    let done = 0;
    const run = migrateStores(source, interrupted, {
      jobs: 1,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type !== 'blob-done') return;
        done += 1;
        if (done === 3) controller.abort(new InterruptedError());
      },
    });
    await expect(run).rejects.toThrow(InterruptedError);
    await interrupted.abort();
    await expect(names(await openS3(ceph.endpoint, bucket, '', 'read'))).rejects.toThrow(
      /holds no images/,
    );

    const resumed = await openS3(ceph.endpoint, bucket, '', 'write');
    const rest = await migrateStores(source, resumed, { jobs: 1 });
    await resumed.close();
    expect(done).toBeGreaterThan(0);
    expect(rest.blobsMoved).toBe(all.blobsMoved - done);
    expect(rest.counts.moved).toBe(rest.counts.selected);
    const check = await openS3(ceph.endpoint, bucket, '', 'read');
    expect((await verifyStore(check)).problems).toEqual([]);
  });

  it('two writers of one prefix both keep their names', async () => {
    const bucket = await newBucket(ceph, 'writers');
    const source = await openDir(fixtureImages, 'read');
    const [one, two] = await Promise.all([
      openS3(ceph.endpoint, bucket, '', 'write'),
      openS3(ceph.endpoint, bucket, '', 'write'),
    ]);
    await migrateStores(source, one, { include: ['alpha:*'] });
    await migrateStores(source, two, { include: ['beta:*'] });
    await one.close();
    await two.close();
    const listed = await names(await openS3(ceph.endpoint, bucket, '', 'read'));
    expect(listed.map((row) => row.split(' ')[0])).toEqual([
      'docker.io/library/alpha:1.0',
      'docker.io/library/beta:1.0',
    ]);
  });
});
