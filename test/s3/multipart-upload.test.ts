import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { partSizeFor } from '../../src/stores/s3/multipart-upload.js';
import { createS3Client } from '../../src/stores/s3/s3-client.js';
import { S3Storage } from '../../src/stores/s3/s3-storage.js';
import { newBucket, startS3, s3ServerName, type S3Peer } from './s3-helpers.js';

const MIB = 1 << 20;
/** Over the in-memory limit (16 MiB): three parts of 8, 8 and 4 MiB. */
const SIZE = 20 * MIB;

/** A proxy in front of the S3 server that answers some requests itself with an error. */
interface FaultyProxy {
  endpoint: string;
  /** The part number of every UploadPart request, in the order they came. */
  parts: number[];
  close(): Promise<void>;
}

/**
 * faultyProxy forwards requests to `target` (the Host header too, so SigV4 signatures stay
 * valid), except those for which `failWith` gives a status: their body is read and dropped,
 * and the answer is an S3 error with that status.
 */
async function faultyProxy(
  target: string,
  failWith: (incoming: IncomingMessage, partNumber: number | undefined) => number | undefined,
): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const parts: number[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    const query = new URL(incoming.url ?? '/', 'http://proxy').searchParams;
    const partNumber = query.has('partNumber') ? Number(query.get('partNumber')) : undefined;
    if (partNumber !== undefined) parts.push(partNumber);
    const status = failWith(incoming, partNumber);
    if (status !== undefined) {
      incoming.resume();
      incoming.on('end', () => {
        const code = status === 403 ? 'AccessDenied' : 'InternalError';
        outgoing.writeHead(status, { 'content-type': 'application/xml' });
        outgoing.end(`<Error><Code>${code}</Code><Message>injected</Message></Error>`);
      });
      return;
    }
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    parts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function storageAt(endpoint: string, bucket: string): S3Storage {
  return new S3Storage(createS3Client({ bucket, prefix: '', endpoint }), bucket, '');
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('part sizes', () => {
  it('start at 8 MiB and grow to keep within 10,000 parts', () => {
    expect(partSizeFor(0)).toBe(8 * MIB);
    expect(partSizeFor(1024 * MIB)).toBe(8 * MIB);
    const huge = 100 * 1024 * MIB;
    expect(partSizeFor(huge)).toBe(11 * MIB);
    expect(Math.ceil(huge / partSizeFor(huge))).toBeLessThanOrEqual(10_000);
  });
});

describe(`a multipart upload to ${s3ServerName}`, () => {
  let s3: S3Peer;
  let proxy: FaultyProxy | undefined;
  const blob = randomBytes(SIZE);

  beforeAll(async () => {
    s3 = await startS3();
  }, 120_000);

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it('sends a part again, from its file, when the server failed it once', async () => {
    const bucket = await newBucket(s3, 'retry');
    let failed = false;
    proxy = await faultyProxy(s3.endpoint, (_incoming, partNumber) => {
      if (partNumber !== 2 || failed) return undefined;
      failed = true;
      return 500;
    });
    const storage = storageAt(proxy.endpoint, bucket);
    await storage.writeStream('blob', Readable.from([blob]), SIZE);

    expect(proxy.parts.filter((part) => part === 2)).toHaveLength(2);
    expect([...new Set(proxy.parts)].sort()).toEqual([1, 2, 3]);
    const stored = await storageAt(s3.endpoint, bucket).read('blob');
    expect(stored?.length).toBe(SIZE);
    expect(sha256(stored!)).toBe(sha256(blob));
  });

  it('aborts the upload, leaving no object and no parts, when the server refuses a part', async () => {
    const bucket = await newBucket(s3, 'refused');
    proxy = await faultyProxy(s3.endpoint, (_incoming, partNumber) =>
      partNumber === 3 ? 403 : undefined,
    );
    const storage = storageAt(proxy.endpoint, bucket);
    await expect(storage.writeStream('blob', Readable.from([blob]), SIZE)).rejects.toMatchObject({
      code: 'S3_ACCESS_DENIED',
    });

    // A refusal is not tried again.
    expect(proxy.parts.filter((part) => part === 3)).toHaveLength(1);
    const direct = storageAt(s3.endpoint, bucket);
    expect(await direct.size('blob')).toBeUndefined();
    const client = createS3Client({ bucket, prefix: '', endpoint: s3.endpoint });
    const open = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(open.Uploads ?? []).toEqual([]);
  });
});
