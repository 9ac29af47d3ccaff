import { S3Client } from '@aws-sdk/client-s3';

import { AuthError, NetworkError, NotFoundError, RegtoolError } from '../../core/errors.js';

/** Where an S3 store is and how to reach it; credentials always come from the AWS chain. */
export interface S3Settings {
  bucket: string;
  prefix: string;
  /** A custom endpoint (`http://127.0.0.1:7480`); AWS itself when absent. */
  endpoint?: string;
  region?: string;
  /** Path-style addressing; the default for custom endpoints. */
  forcePathStyle?: boolean;
}

/**
 * resolveS3Settings fills endpoint and region from the environment as the AWS CLI reads it
 * (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION) where the address,
 * the flags and the configuration file leave them open.
 */
export function resolveS3Settings(settings: S3Settings, env: NodeJS.ProcessEnv): S3Settings {
  const endpoint = settings.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  // A custom endpoint with no region anywhere is a local server; us-east-1 is what they expect.
  const region =
    settings.region ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    (endpoint ? 'us-east-1' : undefined);
  return { ...settings, endpoint, region };
}

/**
 * The SDK's own log goes nowhere. Without a logger of its own it writes to the console, for
 * instance on every failed request with a streamed body (a multipart part, which regtool
 * retries itself), and the library never prints.
 */
const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * createS3Client makes a client for resolved settings. A custom endpoint gets path-style
 * addressing. Checksums are sent only when an operation requires them, whatever the endpoint
 * (one may also come from a profile's endpoint_url): since SDK 3.729 a streamed upload is
 * otherwise sent aws-chunked with a trailing checksum, which radosgw answers with 411 and Swift
 * with 501, and regtool verifies sha256 itself before anything is uploaded.
 */
export function createS3Client(settings: S3Settings): S3Client {
  // The SDK version is pinned to one that supports Node 20; its notice about later versions
  // needing Node 22 would only be noise on every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle ?? settings.endpoint !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A server that stops answering (radosgw whose OSD is full just waits) fails the command
    // after two idle minutes instead of hanging it.
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000 },
    logger: silentLogger,
  });
}

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** isS3NotFound tells a missing key (404) from other failures. */
export function isS3NotFound(error: unknown): boolean {
  const e = error as SdkError;
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/** s3Error turns an SDK failure into a RegtoolError that says what failed and what to do. */
export function s3Error(error: unknown, what: string, location: string): RegtoolError {
  if (error instanceof RegtoolError) return error;
  const e = error as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const detail = error instanceof Error ? error.message : String(error);
  if (name === 'NoSuchBucket') {
    return new NotFoundError('BUCKET_NOT_FOUND', `${location}: the bucket does not exist`, {
      cause: error,
      hint: 'create the bucket first, or check the bucket name and the endpoint',
    });
  }
  if (name === 'CredentialsProviderError') {
    return new AuthError('S3_NO_CREDENTIALS', `no AWS credentials were found for ${location}`, {
      cause: error,
      hint:
        'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ' +
        '~/.aws/credentials',
    });
  }
  if (status === 403 || status === 401) {
    return new AuthError('S3_ACCESS_DENIED', `${what} in ${location} was refused: ${name}`, {
      cause: error,
      hint:
        'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, to keys allowed ' +
        'there',
    });
  }
  const raw = error as { $response?: unknown; $fault?: string };
  if (raw.$response !== undefined && raw.$fault === undefined) {
    // An answer the SDK could not read as S3's, error or not: the endpoint is no S3 server.
    return new NetworkError(
      'S3_NOT_S3',
      `${location}: the endpoint did not answer ${what} as an S3 server does (HTTP ` +
        `${status ?? '?'})`,
      {
        cause: error,
        hint:
          'check the endpoint (--endpoint, AWS_ENDPOINT_URL or the config file) names an S3 ' +
          'server',
      },
    );
  }
  if (status === undefined || status >= 500) {
    const region = /region is missing/i.test(detail);
    return new NetworkError('S3_UNREACHABLE', `${what} in ${location} failed: ${detail}`, {
      cause: error,
      hint: region
        ? 'set the region: --region, AWS_REGION or AWS_DEFAULT_REGION, or the config file'
        : 'check the endpoint (--endpoint, AWS_ENDPOINT_URL or the config file) and that it runs',
    });
  }
  return new RegtoolError('internal', 'S3_FAILED', `${what} in ${location} failed: ${detail}`, {
    cause: error,
    hint: 'run again with -v; if it persists, the server may not support this operation',
  });
}
