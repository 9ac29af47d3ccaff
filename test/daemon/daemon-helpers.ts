import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { create } from 'tar';

/** daemonRequest sends one request to an Engine API socket and returns status and body text. */
export function daemonRequest(
  socket: string,
  method: string,
  path: string,
  body?: Buffer,
  contentType = 'application/x-tar',
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(
      { socketPath: socket, method, path, headers: { 'content-type': contentType } },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (chunk: Buffer) => parts.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(parts).toString() }),
        );
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

/** rootfsTar is a tar of one file, `hello`, holding `content`. */
export async function rootfsTar(content: string | Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'regtool-rootfs-'));
  try {
    await writeFile(join(dir, 'hello'), content);
    const parts: Buffer[] = [];
    for await (const chunk of create({ cwd: dir, portable: true }, ['hello']) as unknown as Readable) {
      parts.push(chunk as Buffer);
    }
    return Buffer.concat(parts);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** importImage makes an image of one file in the daemon, named `name` (with a tag). */
export async function importImage(
  socket: string,
  name: string,
  content: string | Buffer = name,
): Promise<string> {
  const query = new URLSearchParams({ fromSrc: '-', repo: name });
  const answer = await daemonRequest(
    socket,
    'POST',
    `/v1.41/images/create?${query}`,
    await rootfsTar(content),
  );
  if (answer.status !== 200) throw new Error(`importing ${name} failed: ${answer.text}`);
  return (JSON.parse(answer.text) as { id: string }).id;
}

/** daemonImageNames lists every RepoTag the daemon holds. */
export async function daemonImageNames(socket: string): Promise<string[]> {
  const answer = await daemonRequest(socket, 'GET', '/v1.41/images/json');
  const images = JSON.parse(answer.text) as Array<{ RepoTags?: string[] | null }>;
  return images.flatMap((image) => image.RepoTags ?? []);
}
