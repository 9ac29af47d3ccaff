/**
 * Reading an answer's body into memory with a bound: a registry, a token server or a proxy in
 * front of them may send a body without end, and only a known amount is ever needed.
 */
import type { HttpResponse } from './http.js';

/**
 * The largest manifest, tag list page, referrers index or token answer read from a registry.
 * The OCI distribution spec asks registries to take manifests of at least 4 MiB.
 */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The first bytes of a body, and whether they are all of it. */
export interface BodyHead {
  bytes: Buffer;
  complete: boolean;
}

/**
 * readHead reads at most `limit` bytes of a body. When the body is longer, the rest is never
 * downloaded: leaving the loop destroys the body, and with it the connection.
 */
export async function readHead(response: HttpResponse, limit: number): Promise<BodyHead> {
  const declared = Number(response.headers['content-length']);
  if (declared > limit) {
    response.body.destroy();
    return { bytes: Buffer.alloc(0), complete: false };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > limit) return { bytes: Buffer.concat(chunks).subarray(0, limit), complete: false };
  }
  return { bytes: Buffer.concat(chunks), complete: true };
}

/** readBounded reads a whole body of at most `limit` bytes, else throws `tooLarge()`. */
export async function readBounded(
  response: HttpResponse,
  limit: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const head = await readHead(response, limit);
  if (!head.complete) throw tooLarge();
  return head.bytes;
}
