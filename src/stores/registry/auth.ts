import { AuthError, NetworkError } from '../../core/errors.js';
import { parseChallenges, type Challenge } from './challenge.js';
import type { Credentials } from './credentials.js';
import { MAX_ANSWER_BYTES, readBounded } from './bounded-body.js';
import { safeUrl, type HttpClient, type HttpResponse } from './http.js';

/** repositoryScope is the token scope for actions on one repository path. */
export function repositoryScope(path: string, actions: string[]): string {
  return `repository:${path}:${actions.join(',')}`;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

/** Token lifetime assumed when the token server gives none, as the token spec says. */
const DEFAULT_TOKEN_SECONDS = 60;
/** Tokens are renewed this long before they expire, so none runs out mid-request. */
const EXPIRY_MARGIN_MS = 10_000;

function basicHeader(credentials: Credentials): string {
  const pair = `${credentials.username}:${credentials.password}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

/** loginHint tells the user how to give credentials for a registry. */
export function loginHint(domain: string): string {
  return `run: regtool login ${domain} (or pass --creds USER:PASSWORD)`;
}

/**
 * Authenticator answers a registry's challenges: Basic with the stored credentials, or Bearer
 * with a token from the realm for exactly the scopes a request needs, cached until it expires.
 */
export class Authenticator {
  private challenge?: Challenge;
  private readonly tokens = new Map<string, CachedToken>();
  private credentials?: Promise<Credentials | undefined>;

  constructor(
    private readonly http: HttpClient,
    private readonly domain: string,
    private readonly findCredentials: () => Promise<Credentials | undefined>,
  ) {}

  /** learn takes the challenge of a 401 answer; Bearer wins over Basic when both are offered. */
  learn(header: string | string[] | undefined): Challenge | undefined {
    const challenges = parseChallenges(header);
    const chosen =
      challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ??
      challenges.find((c) => c.scheme === 'basic');
    if (chosen) this.challenge = chosen;
    return chosen;
  }

  /** The Authorization value for a request needing `scopes`, once a challenge is known. */
  async authorization(scopes: string[]): Promise<string | undefined> {
    const challenge = this.challenge;
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') {
      const credentials = await this.getCredentials();
      return credentials && basicHeader(credentials);
    }
    return `Bearer ${await this.token(challenge, scopes)}`;
  }

  /**
   * reauthorize answers a 401: it learns the new challenge, drops the token it replaces and
   * returns a fresh Authorization, or throws an AuthError when there is nothing new to try.
   */
  async reauthorize(response: HttpResponse, scopes: string[], sent?: string): Promise<string> {
    const challenge = this.learn(response.headers['www-authenticate']);
    const credentials = await this.getCredentials();
    if (challenge === undefined || (challenge.scheme === 'basic' && !credentials)) {
      throw this.refused(credentials);
    }
    const wanted = challenge.params.scope ? [...scopes, challenge.params.scope] : scopes;
    this.tokens.delete(scopeKey(scopes));
    this.tokens.delete(scopeKey(wanted));
    const fresh = await this.authorization(wanted);
    if (fresh === undefined || fresh === sent) throw this.refused(credentials);
    // The next request for the same scopes reuses the token the registry asked for.
    const token = this.tokens.get(scopeKey(wanted));
    if (token) this.tokens.set(scopeKey(scopes), token);
    return fresh;
  }

  /** refusal is the error for a registry that still says 401 after authentication. */
  async refusal(): Promise<AuthError> {
    return this.refused(await this.getCredentials());
  }

  /** refused is the error for a registry that still says 401. */
  refused(credentials: Credentials | undefined): AuthError {
    return credentials
      ? new AuthError('AUTH_REFUSED', `${this.domain} refused the credentials regtool has for it`, {
          hint: `check the user name and password; ${loginHint(this.domain)}`,
        })
      : new AuthError('AUTH_REQUIRED', `${this.domain} requires credentials`, {
          hint: loginHint(this.domain),
        });
  }

  private getCredentials(): Promise<Credentials | undefined> {
    this.credentials ??= this.findCredentials();
    return this.credentials;
  }

  private async token(challenge: Challenge, scopes: string[]): Promise<string> {
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.value;
    const fetched = await this.fetchToken(challenge, [...new Set(scopes)]);
    this.tokens.set(key, fetched);
    return fetched.value;
  }

  private async fetchToken(challenge: Challenge, scopes: string[]): Promise<CachedToken> {
    const credentials = await this.getCredentials();
    const url = new URL(challenge.params.realm!);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const response =
      credentials?.username === '<token>'
        ? await this.refreshTokenRequest(url, credentials.password)
        : await this.http.send({
            method: 'GET',
            url,
            authorization: credentials && basicHeader(credentials),
          });
    if (response.status === 401 || response.status === 403) {
      await response.body.dump();
      throw this.refused(credentials);
    }
    if (response.status !== 200) {
      await response.body.dump();
      throw new NetworkError(
        'TOKEN_FAILED',
        `the token server ${safeUrl(url)} answered ${response.status}`,
        {
          hint: "the registry's auth service is failing; try again later",
        },
      );
    }
    const bytes = await readBounded(response, MAX_ANSWER_BYTES, () => {
      const mib = MAX_ANSWER_BYTES / 1024 / 1024;
      return new NetworkError(
        'TOKEN_INVALID',
        `the token server ${safeUrl(url)} sent more than ${mib} MiB`,
        {
          hint: "check the registry's auth service, and any proxy in front of it",
        },
      );
    });
    return parseTokenAnswer(bytes.toString('utf8'), url);
  }

  /** An identity token (from a helper or `identitytoken`) is traded with OAuth2's refresh grant. */
  private refreshTokenRequest(url: URL, refreshToken: string): Promise<HttpResponse> {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'regtool',
    });
    for (const [name, value] of url.searchParams) form.append(name, value);
    return this.http.send({
      method: 'POST',
      url: new URL(url.pathname, url),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(form.toString()),
    });
  }
}

function scopeKey(scopes: string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}

function parseTokenAnswer(text: string, url: URL): CachedToken {
  let answer: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch (error) {
    throw new NetworkError('TOKEN_INVALID', `the token server ${safeUrl(url)} sent no JSON`, {
      cause: error,
    });
  }
  const value = answer.token ?? answer.access_token;
  if (!value) {
    throw new NetworkError('TOKEN_INVALID', `the token server ${safeUrl(url)} sent no token`);
  }
  const issued = answer.issued_at ? Date.parse(answer.issued_at) : Number.NaN;
  const start = Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now());
  const seconds =
    answer.expires_in && answer.expires_in > 0 ? answer.expires_in : DEFAULT_TOKEN_SECONDS;
  return { value, expiresAt: start + seconds * 1000 - EXPIRY_MARGIN_MS };
}
