import type { Readable } from 'node:stream';

import { DigestVerifier, verifyBytes, verifying } from '../../core/digest.js';
import { NotFoundError } from '../../core/errors.js';
import type { Descriptor } from '../../core/schemas.js';
import type { ObjectStorage } from './object-storage.js';

function missing(storage: ObjectStorage, what: string): NotFoundError {
  return new NotFoundError('BLOB_NOT_FOUND', `${what} is missing from ${storage.location}`, {
    hint: `the store is incomplete; run regtool verify ${storage.location}`,
  });
}

/** readVerified reads a small object (a manifest) and checks it against its descriptor. */
export async function readVerified(
  storage: ObjectStorage,
  key: string,
  descriptor: Descriptor,
  what: string,
): Promise<Buffer> {
  const bytes = await storage.read(key);
  if (bytes === undefined) throw missing(storage, `${what} ${descriptor.digest}`);
  verifyBytes(bytes, descriptor, what);
  return bytes;
}

/** openVerified streams an object that fails with an IntegrityError if it disagrees. */
export async function openVerified(
  storage: ObjectStorage,
  key: string,
  descriptor: Descriptor,
): Promise<Readable> {
  const body = await storage.openRead(key);
  if (body === undefined) throw missing(storage, `blob ${descriptor.digest}`);
  const verifier = new DigestVerifier(descriptor, `blob in ${storage.location}`);
  body.on('error', (error) => verifier.destroy(error));
  return body.pipe(verifier);
}

/**
 * writeVerified stores a blob under its content address once its bytes match the descriptor
 * (checked here unless the content checks itself: `verified`). An object already there with
 * the right size is kept (content-addressed bytes never change); returns whether anything was
 * written.
 */
export async function writeVerified(
  storage: ObjectStorage,
  key: string,
  descriptor: Descriptor,
  content: Readable,
  verified = false,
): Promise<boolean> {
  if ((await storage.size(key)) === descriptor.size) {
    content.resume();
    return false;
  }
  const checked = verifying(content, descriptor, `blob for ${storage.location}`, verified);
  await storage.writeStream(key, checked, descriptor.size);
  return true;
}
