import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execa } from 'execa';

/** Where an S3 server is and the keys that sign requests to it. */
export interface S3Endpoint {
  /** `http://127.0.0.1:PORT`; buckets are addressed path-style. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface S3Response {
  status: number;
  body: Buffer;
}

function curlConfigValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

async function runCurl(args: string[], config: string, body?: Buffer) {
  const options = {
    input: config,
    encoding: 'buffer',
    reject: false,
    stripFinalNewline: false,
  } as const;
  if (body === undefined) {
    return execa('curl', args, options);
  }
  const dir = await mkdtemp(join(tmpdir(), 'regtool-s3-'));
  try {
    const bodyFile = join(dir, 'body');
    await writeFile(bodyFile, body);
    return await execa('curl', [...args, '--data-binary', `@${bodyFile}`], options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * s3Request sends one SigV4-signed request with curl's `--aws-sigv4` and returns the status and
 * body. The keys reach curl in a config on stdin, never on its command line. curl 7.88 leaves
 * out `x-amz-content-sha256`, which radosgw requires, so the payload hash is sent (and signed)
 * as a header of ours.
 */
export async function s3Request(
  server: S3Endpoint,
  method: string,
  path: string,
  body?: string | Buffer,
): Promise<S3Response> {
  const payload = body === undefined ? undefined : Buffer.from(body);
  const payloadHash = createHash('sha256')
    .update(payload ?? Buffer.alloc(0))
    .digest('hex');
  const config = [
    `user = ${curlConfigValue(`${server.accessKeyId}:${server.secretAccessKey}`)}`,
    `aws-sigv4 = ${curlConfigValue(`aws:amz:${server.region}:s3`)}`,
  ].join('\n');
  const url = `${server.endpoint}${path}`;
  // `-X HEAD` would make curl wait for a body that never comes; `--head` does not.
  const methodArgs = method === 'HEAD' ? ['--head'] : ['-X', method];
  const args = ['-sS', '-K', '-', ...methodArgs, '-H', `x-amz-content-sha256: ${payloadHash}`];
  args.push('-o', '-', '-w', '%{stderr}%{http_code}', url);

  const result = await runCurl(args, config, payload);
  const stderr = Buffer.from(result.stderr).toString('utf8');
  const status = Number(/(\d{3})$/.exec(stderr)?.[1] ?? 0);
  if (status === 0) {
    throw new Error(`${method} ${url} failed: ${stderr.trim()}`);
  }
  return { status, body: Buffer.from(result.stdout) };
}
