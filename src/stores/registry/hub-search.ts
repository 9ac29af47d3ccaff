/**
 * Docker Hub has no catalog: it answers searches through the index's v1 search API, the one
 * `docker search` uses. `GET https://index.docker.io/v1/search?q=WORD&n=N` answers
 * `{"num_results", "query", "results": [{name, description, star_count, is_official,
 * is_automated}]}`, official images named bare (`busybox`), the others `user/repo`.
 * See https://docs.docker.com/reference/cli/docker/search/.
 */
import { AuthError, NetworkError, UsageError, type RegtoolError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { responseError } from './errors.js';
import { safeUrl, type HttpResponse } from './http.js';
import { readHubSearchAnswer, type HubSearchMatch } from './hub-search-answer.js';

export type { HubSearchMatch } from './hub-search-answer.js';

/** Where Docker Hub answers searches; `REGTOOL_HUB_SEARCH_URL` replaces it. */
export const HUB_SEARCH_URL = 'https://index.docker.io/v1/search';

/** How many results a search asks for unless told, as `docker search` does. */
export const HUB_SEARCH_DEFAULT_LIMIT = 25;

/** The most results the index gives for one search. */
export const HUB_SEARCH_MAX_LIMIT = 100;

/** How long a search may take, retries included, unless `REGTOOL_HUB_SEARCH_TIMEOUT` says. */
export const HUB_SEARCH_TIMEOUT_SECONDS = 30;

export interface HubSearchOptions extends ClientOptions {
  /** How many results to ask for and give back, 1 to 100 (default 25). */
  limit?: number;
}

/** hubSearchUrl is the search endpoint: `REGTOOL_HUB_SEARCH_URL`, else Docker Hub's. */
export function hubSearchUrl(env: NodeJS.ProcessEnv = process.env): URL {
  const configured = env.REGTOOL_HUB_SEARCH_URL;
  if (configured === undefined || configured === '') return new URL(HUB_SEARCH_URL);
  const url = URL.canParse(configured) ? new URL(configured) : undefined;
  if (url?.protocol !== 'https:' && url?.protocol !== 'http:') {
    throw new UsageError(
      'HUB_SEARCH_URL_INVALID',
      `REGTOOL_HUB_SEARCH_URL=${configured} is not an http(s) URL`,
      { hint: `set it to a search endpoint such as ${HUB_SEARCH_URL}, or unset it` },
    );
  }
  return url;
}

/** hubSearchTimeout is how many seconds a search may take: `REGTOOL_HUB_SEARCH_TIMEOUT`, or 30. */
export function hubSearchTimeout(env: NodeJS.ProcessEnv = process.env): number {
  const configured = env.REGTOOL_HUB_SEARCH_TIMEOUT;
  if (configured === undefined || configured === '') return HUB_SEARCH_TIMEOUT_SECONDS;
  const seconds = Number(configured);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(
      'HUB_SEARCH_TIMEOUT_INVALID',
      `REGTOOL_HUB_SEARCH_TIMEOUT=${configured} is not a number of seconds above 0`,
      { hint: `set it to the seconds a search may take, such as ${HUB_SEARCH_TIMEOUT_SECONDS}` },
    );
  }
  return seconds;
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > HUB_SEARCH_MAX_LIMIT) {
    throw new UsageError(
      'USAGE',
      `Docker Hub gives 1 to ${HUB_SEARCH_MAX_LIMIT} search results, not ${limit}`,
      { hint: `give --limit a number from 1 to ${HUB_SEARCH_MAX_LIMIT}` },
    );
  }
}

/**
 * searchDockerHub asks Docker Hub's search API for repositories matching a word, through the
 * registry HTTP stack: proxies, CAs, retries of 5xx and dropped connections, and unreachable
 * hosts reported as network errors (exit 7). The whole search, retries included, gives up after
 * `REGTOOL_HUB_SEARCH_TIMEOUT` seconds (30 by default) rather than the transport's minutes.
 */
export async function searchDockerHub(
  word: string,
  options: HubSearchOptions = {},
): Promise<HubSearchMatch[]> {
  const limit = options.limit ?? HUB_SEARCH_DEFAULT_LIMIT;
  checkLimit(limit);
  const url = hubSearchUrl(options.env);
  url.searchParams.set('q', word);
  url.searchParams.set('n', String(limit));
  const seconds = hubSearchTimeout(options.env);

  const deadline = AbortSignal.timeout(seconds * 1000);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  try {
    return await askHub(word, url, limit, { ...options, signal });
  } catch (error) {
    if (!deadline.aborted || options.signal?.aborted) throw error;
    throw new NetworkError(
      'HUB_SEARCH_TIMEOUT',
      `${safeUrl(url)} gave no search result within ${seconds} s`,
      {
        hint: 'try again later; REGTOOL_HUB_SEARCH_TIMEOUT sets how many seconds to wait',
        cause: error,
      },
    );
  }
}

async function askHub(
  word: string,
  url: URL,
  limit: number,
  options: HubSearchOptions,
): Promise<HubSearchMatch[]> {
  const client = await RegistryClient.create(url.host, options);
  try {
    const headers = { accept: 'application/json' };
    const response = await client.send({ method: 'GET', url, headers });
    if (response.status !== 200) throw await searchError(response, word, url);
    return await readHubSearchAnswer(response, url, limit, options.logger ?? silentLogger);
  } finally {
    await client.close();
  }
}

async function searchError(response: HttpResponse, word: string, url: URL): Promise<RegtoolError> {
  const status = response.status;
  if (status !== 404 && status !== 401 && status !== 403) {
    return responseError(response, `the search for "${word}"`, url.host);
  }
  await response.body.dump();
  if (status === 404) {
    return new NetworkError('HUB_SEARCH_NO_API', `${safeUrl(url)} has no search API (404)`, {
      hint: 'check REGTOOL_HUB_SEARCH_URL, or unset it to search Docker Hub',
    });
  }
  // Docker Hub searches anonymously, so credentials would not help: the endpoint is not it.
  return new AuthError('HUB_SEARCH_REFUSED', `${safeUrl(url)} refused the search (${status})`, {
    hint:
      'Docker Hub searches need no account and regtool sends none; check ' +
      'REGTOOL_HUB_SEARCH_URL, or unset it to search Docker Hub',
  });
}
