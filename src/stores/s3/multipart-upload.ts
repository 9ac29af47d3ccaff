import { setTimeout as sleep } from 'node:timers/promises';

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

import { readFileStream } from '../../core/file-stream.js';

/** The smallest part size regtool uses; S3 takes parts of 5 MiB and up. */
const MIN_PART_SIZE = 8 << 20;
/** S3 takes at most this many parts in one upload. */
const MAX_PARTS = 10_000;
/** Parts sent at once. Each is streamed from the file, so only socket buffers stay in memory. */
const PARTS_IN_FLIGHT = 4;
/** Tries for one part: the SDK does not retry a request whose body is a stream. */
const PART_ATTEMPTS = 3;

/** Where a multipart upload goes and how it can be stopped. */
export interface MultipartTarget {
  client: S3Client;
  bucket: string;
  key: string;
  signal?: AbortSignal;
}

/** partSizeFor picks a part size that keeps a file of `size` bytes within S3's part count. */
export function partSizeFor(size: number): number {
  const mib = 1 << 20;
  return Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS / mib) * mib);
}

/**
 * uploadFileInParts sends a file as one multipart upload. Each part's body is a stream over
 * its byte range of the file, so memory does not grow with the part size or the number of
 * parts in flight. On any failure the upload is aborted, so the server drops the parts it had.
 */
export async function uploadFileInParts(
  target: MultipartTarget,
  file: string,
  size: number,
): Promise<void> {
  const { client, bucket, key, signal } = target;
  const created = await client.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
    { abortSignal: signal },
  );
  const uploadId = created.UploadId!;
  try {
    const parts = await uploadParts(target, uploadId, file, size);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal: signal },
    );
  } catch (error) {
    // Without the abort signal: an interrupted upload is exactly the one to clean up.
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
    throw error;
  }
}

/**
 * uploadParts sends every part, a few at a time, and returns them in order. The parts share one
 * abort signal of their own, so that they add one listener to the caller's signal, not one
 * each, and so that the first part to fail stops the others.
 */
async function uploadParts(
  target: MultipartTarget,
  uploadId: string,
  file: string,
  size: number,
): Promise<CompletedPart[]> {
  const partSize = partSizeFor(size);
  const count = Math.max(1, Math.ceil(size / partSize));
  const parts: CompletedPart[] = new Array<CompletedPart>(count);
  const controller = new AbortController();
  const stop = () => controller.abort(target.signal?.reason);
  target.signal?.addEventListener('abort', stop, { once: true });
  const partTarget = { ...target, signal: controller.signal };
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < count && !controller.signal.aborted) {
      const index = next;
      next += 1;
      const start = index * partSize;
      const length = Math.min(partSize, size - start);
      try {
        parts[index] = await uploadPart(partTarget, uploadId, index + 1, file, start, length);
      } catch (error) {
        failure ??= { error };
        controller.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PARTS_IN_FLIGHT, count) }, worker));
  } finally {
    target.signal?.removeEventListener('abort', stop);
  }
  // An interrupt is reported as itself, not as the failed request that it caused.
  if (target.signal?.aborted) throw target.signal.reason;
  if (failure) throw failure.error;
  return parts;
}

/** uploadPart sends one byte range of the file, with a fresh stream on each try. */
async function uploadPart(
  target: MultipartTarget,
  uploadId: string,
  partNumber: number,
  file: string,
  start: number,
  length: number,
): Promise<CompletedPart> {
  for (let attempt = 1; ; attempt += 1) {
    const body = readFileStream(file, { start, end: start + length - 1 });
    try {
      const answer = await target.client.send(
        new UploadPartCommand({
          Bucket: target.bucket,
          Key: target.key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: length,
        }),
        { abortSignal: target.signal },
      );
      return { PartNumber: partNumber, ETag: answer.ETag };
    } catch (error) {
      if (attempt >= PART_ATTEMPTS || target.signal?.aborted || !isRetryable(error)) throw error;
      await sleep(250 * attempt);
    } finally {
      body.destroy();
    }
  }
}

/** isRetryable tells a failure worth another try (the network, the server) from a refusal. */
function isRetryable(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined || status === 429 || status >= 500;
}
