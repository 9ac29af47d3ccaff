import {
  AuthError,
  IntegrityError,
  NetworkError,
  NotFoundError,
  UnsupportedError,
  type RegtoolError,
} from '../../core/errors.js';
import { loginHint } from './auth.js';
import { MAX_ANSWER_BYTES, readBounded, readHead } from './bounded-body.js';
import type { HttpResponse } from './http.js';

/** What the registry said, from the spec's `{"errors": [{code, message}]}` body. */
interface RegistryErrorBody {
  code?: string;
  message?: string;
}

const MAX_ERROR_BODY = 64 * 1024;

// Only the head of an error body is read: a server may send one without end.
async function readErrorBody(response: HttpResponse): Promise<RegistryErrorBody> {
  const text = (await readHead(response, MAX_ERROR_BODY)).bytes.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { errors?: RegistryErrorBody[] };
    return parsed.errors?.[0] ?? {};
  } catch {
    return {};
  }
}

/**
 * responseError turns an unexpected answer into the error a user can act on: 404 is not found
 * (exit 3), 401 and 403 are auth (exit 4), 5xx and 429 that outlived the retries are network
 * (exit 7). `what` names the object without credentials: `manifest of host/repo:tag`.
 */
export async function responseError(
  response: HttpResponse,
  what: string,
  domain: string,
): Promise<RegtoolError> {
  const body = await readErrorBody(response);
  const said = body.message ? `: ${body.message}` : '';
  const status = response.status;
  if (status === 404) {
    const code = body.code === 'BLOB_UNKNOWN' ? 'BLOB_NOT_FOUND' : 'IMAGE_NOT_FOUND';
    return new NotFoundError(code, `${what} was not found`, {
      hint: `check the name and tag; list the tags with: regtool tags NAME`,
    });
  }
  if (status === 401) {
    return new AuthError('AUTH_REQUIRED', `${domain} requires credentials for ${what}`, {
      hint: loginHint(domain),
    });
  }
  if (status === 403) {
    return new AuthError('ACCESS_DENIED', `${domain} denied access to ${what}${said}`, {
      hint: `check that the account may do this; ${loginHint(domain)}`,
    });
  }
  if (body.code === 'DIGEST_INVALID' || body.code === 'SIZE_INVALID') {
    return new IntegrityError('REGISTRY_DIGEST_INVALID', `${domain} refused ${what}${said}`, {
      hint: 'the content does not match its digest; check the source with regtool verify',
    });
  }
  if (status === 405 || body.code === 'UNSUPPORTED') {
    return new UnsupportedError(
      'REGISTRY_UNSUPPORTED',
      `${domain} does not support this on ${what}${said}`,
      {
        hint: 'the registry has this operation disabled (deletes often are)',
      },
    );
  }
  if (status === 429 || status >= 500) {
    return new NetworkError(
      'REGISTRY_UNAVAILABLE',
      `${domain} answered ${status} for ${what}${said}`,
      {
        hint: 'the registry is failing or rate-limiting; try again later',
      },
    );
  }
  return new NetworkError('REGISTRY_ERROR', `${domain} answered ${status} for ${what}${said}`, {
    hint: 'run again with -vv to see the exchange',
  });
}

/**
 * readAnswer reads a registry's answer (a manifest, a tag list page, a token) into memory, up
 * to MAX_ANSWER_BYTES; `what` names it and `domain` who sent it.
 */
export function readAnswer(response: HttpResponse, what: string, domain: string): Promise<Buffer> {
  return readBounded(response, MAX_ANSWER_BYTES, () => {
    const mib = MAX_ANSWER_BYTES / 1024 / 1024;
    return new NetworkError(
      'REGISTRY_ANSWER_TOO_LARGE',
      `${domain} sent more than ${mib} MiB for ${what}`,
      {
        hint:
          'no image needs that much; check the address, and any proxy between regtool and ' +
          'the registry',
      },
    );
  });
}
