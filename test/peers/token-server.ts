/**
 * A small token server for the Distribution registry's `auth: token` mode: the flow Docker Hub,
 * GHCR and Harbor use. A client that gets a 401 with `Bearer realm=…,service=…,scope=…` asks
 * `GET <realm>?service=…&scope=…` with Basic credentials and gets back a signed JWT that names
 * the repositories and actions it may use.
 *
 * Uses node:http and node:crypto only, so it runs under any Node without a build step.
 */
import {
  createHash,
  createPrivateKey,
  randomUUID,
  sign,
  timingSafeEqual,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** One grant of a token: a resource and the actions allowed on it. */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** How the JWT header points the registry at the signing key. */
export type KeyHint = 'x5c' | 'kid';

export interface TokenSigner {
  privateKey: KeyObject;
  certificate: X509Certificate;
  keyHint: KeyHint;
}

export interface TokenServerOptions {
  issuer: string;
  service: string;
  username: string;
  password: string;
  /** PEM of an EC P-256 or RSA private key. */
  privateKeyPem: string;
  /** PEM of the self-signed certificate of that key, the registry's `rootcertbundle`. */
  certificatePem: string;
  keyHint?: KeyHint;
  lifetimeSeconds?: number;
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return bits > 0 ? out + BASE32_ALPHABET[(value << (5 - bits)) & 31] : out;
}

/**
 * libtrustKeyId computes the key ID the registry matches a JWT `kid` against: SHA-256 of the
 * DER SubjectPublicKeyInfo, first 30 bytes, unpadded base32, a colon after every 4 characters.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const digest = createHash('sha256').update(spki).digest().subarray(0, 30);
  return base32(digest).match(/.{4}/g)!.join(':');
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function algorithmOf(key: KeyObject): 'ES256' | 'RS256' {
  if (key.asymmetricKeyType === 'ec') {
    return 'ES256';
  }
  if (key.asymmetricKeyType === 'rsa') {
    return 'RS256';
  }
  throw new Error(`token signing key type ${key.asymmetricKeyType} is not supported`);
}

export interface TokenClaims {
  issuer: string;
  service: string;
  subject: string;
  access: Access[];
  lifetimeSeconds: number;
}

/** signRegistryToken makes a JWT the registry accepts for the given claims. */
export function signRegistryToken(signer: TokenSigner, claims: TokenClaims): string {
  const alg = algorithmOf(signer.privateKey);
  const header =
    signer.keyHint === 'x5c'
      ? { typ: 'JWT', alg, x5c: [signer.certificate.raw.toString('base64')] }
      : { typ: 'JWT', alg, kid: libtrustKeyId(signer.certificate.publicKey) };
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: claims.issuer,
    sub: claims.subject,
    // The registry wants a string here; an array audience is refused.
    aud: claims.service,
    exp: now + claims.lifetimeSeconds,
    nbf: now,
    iat: now,
    jti: randomUUID(),
    access: claims.access,
  };
  const signingInput = `${base64url(header)}.${base64url(payload)}`;
  // JWS wants ES256 signatures as raw r||s, not the DER sequence node produces by default.
  const signature = sign('sha256', Buffer.from(signingInput), {
    key: signer.privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * parseScope reads one `scope` parameter, `type:name:action,action`. The name may hold
 * colons (a registry host with a port), so the type ends at the first colon and the actions
 * start after the last one.
 */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) {
    return undefined;
  }
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter((a) => a !== ''),
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function basicCredentials(request: IncomingMessage): { user: string; pass: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (match === null) {
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

function sendJson(response: ServerResponse, status: number, body: object, headers = {}) {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function sendError(response: ServerResponse, status: number, code: string, message: string) {
  const headers = status === 401 ? { 'WWW-Authenticate': 'Basic realm="regtool-test-token"' } : {};
  sendJson(response, status, { errors: [{ code, message }] }, headers);
}

function handleToken(options: TokenServerOptions, signer: TokenSigner) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://token-server');
    if (url.pathname !== '/token') {
      return sendError(response, 404, 'NOT_FOUND', `no such endpoint ${url.pathname}`);
    }
    if (request.method !== 'GET') {
      return sendError(response, 405, 'UNSUPPORTED', 'only GET /token is served');
    }
    const service = url.searchParams.get('service');
    if (service !== null && service !== options.service) {
      return sendError(
        response,
        400,
        'UNKNOWN_SERVICE',
        `this server signs for ${options.service}`,
      );
    }
    const credentials = basicCredentials(request);
    const valid =
      credentials !== undefined &&
      sameSecret(credentials.user, options.username) &&
      sameSecret(credentials.pass, options.password);
    if (!valid) {
      return sendError(response, 401, 'UNAUTHORIZED', 'Basic credentials missing or refused');
    }
    const access = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .map(parseScope)
      .filter((a): a is Access => a !== undefined);
    const lifetimeSeconds = options.lifetimeSeconds ?? 300;
    const token = signRegistryToken(signer, {
      issuer: options.issuer,
      service: options.service,
      subject: options.username,
      access,
      lifetimeSeconds,
    });
    sendJson(response, 200, {
      token,
      access_token: token,
      expires_in: lifetimeSeconds,
      issued_at: new Date().toISOString(),
    });
  };
}

/** createTokenServer returns an HTTP server (not yet listening) that answers `GET /token`. */
export function createTokenServer(options: TokenServerOptions): Server {
  const signer: TokenSigner = {
    privateKey: createPrivateKey(options.privateKeyPem),
    certificate: new X509Certificate(options.certificatePem),
    keyHint: options.keyHint ?? 'x5c',
  };
  // An unsupported key fails here, at start, rather than at the first request.
  algorithmOf(signer.privateKey);
  return createServer(handleToken(options, signer));
}
