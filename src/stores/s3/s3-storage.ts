import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';

import { IntegrityError } from '../../core/errors.js';
import { uploadFileInParts } from './multipart-upload.js';
import type { ObjectStorage } from './object-storage.js';
import { isS3NotFound, s3Error } from './s3-client.js';

/** Objects up to this size are verified in memory; bigger ones in a temporary file. */
const IN_MEMORY_LIMIT = 16 << 20;

/**
 * S3Storage keeps objects in a bucket under a prefix. A streamed object is read to its end
 * (and so verified by whatever checks the stream) before anything is uploaded; big ones then
 * go up from a temporary file as a multipart upload, its parts streamed in parallel.
 */
export class S3Storage implements ObjectStorage {
  readonly location: string;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly prefix: string,
    private readonly signal?: AbortSignal,
  ) {
    this.location = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    // On an interrupt, close every connection, so no request in flight keeps the process up.
    signal?.addEventListener('abort', () => client.destroy(), { once: true });
  }

  private key(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }),
        { abortSignal: this.signal },
      );
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isS3NotFound(error)) return undefined;
      throw s3Error(error, `reading ${key}`, this.location);
    }
  }

  async read(key: string): Promise<Buffer | undefined> {
    const body = await this.openRead(key);
    if (body === undefined) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async openRead(key: string): Promise<Readable | undefined> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }),
        { abortSignal: this.signal },
      );
      return answer.Body as Readable;
    } catch (error) {
      if (isS3NotFound(error)) return undefined;
      throw s3Error(error, `reading ${key}`, this.location);
    }
  }

  async write(key: string, bytes: Uint8Array | string): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: bytes }),
        { abortSignal: this.signal },
      );
    } catch (error) {
      throw s3Error(error, `writing ${key}`, this.location);
    }
  }

  async writeStream(key: string, content: Readable, size: number): Promise<void> {
    if (size <= IN_MEMORY_LIMIT) {
      const chunks: Buffer[] = [];
      for await (const chunk of content) chunks.push(chunk as Buffer);
      await this.write(key, Buffer.concat(chunks));
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'regtool-s3-'));
    try {
      const file = join(dir, 'blob');
      await pipeline(content, createWriteStream(file));
      await this.upload(key, file, size);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const full = this.key(prefix);
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    try {
      const pages = paginateListObjectsV2(
        { client: this.client },
        { Bucket: this.bucket, Prefix: full },
      );
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined) yield object.Key.slice(strip);
        }
      }
    } catch (error) {
      throw s3Error(error, `listing ${prefix || 'objects'}`, this.location);
    }
  }

  async exists(prefix: string): Promise<boolean> {
    try {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(prefix), MaxKeys: 1 }),
        { abortSignal: this.signal },
      );
      return (page.KeyCount ?? page.Contents?.length ?? 0) > 0;
    } catch (error) {
      throw s3Error(error, `listing ${prefix}`, this.location);
    }
  }

  async remove(keys: string[]): Promise<void> {
    // One DeleteObject per key: DeleteObjects needs Content-MD5 on Swift, and few keys go.
    try {
      await Promise.all(
        keys.map((key) =>
          this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) })),
        ),
      );
    } catch (error) {
      throw s3Error(error, `deleting ${keys.length} objects`, this.location);
    }
  }

  private async upload(key: string, file: string, size: number): Promise<void> {
    const target = {
      client: this.client,
      bucket: this.bucket,
      key: this.key(key),
      signal: this.signal,
    };
    try {
      await uploadFileInParts(target, file, size);
    } catch (error) {
      throw s3Error(error, `uploading ${key}`, this.location);
    }
    // radosgw answers CompleteMultipartUpload with an empty ETag, so ask what was stored.
    const stored = await this.size(key);
    if (stored !== size) {
      throw new IntegrityError(
        'UPLOAD_INCOMPLETE',
        `${this.location}: ${key} holds ${stored ?? 'no'} bytes after uploading ${size}`,
        { hint: 'run the command again; the object will be uploaded anew' },
      );
    }
  }
}
