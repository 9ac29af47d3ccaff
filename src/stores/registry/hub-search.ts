/**
 * Docker Hub has no catalog: it answers searches through the index's v1 search API, the one
 * `docker search` uses. `GET https://index.docker.io/v1/search?q=WORD&n=N` answers
 * `{"num_results", "query", "results": [{name, description, star_count, is_official,
 * is_automated}]}`, official images named bare (`busybox`), the others `user/repo`.
 * See https://docs.docker.com/reference/cli/docker/search/.
 */
import { z } from 'zod';

import { NetworkError, UsageError, type RegtoolError } from '../../core/errors.js';
import { tryParseReference } from '../../core/reference.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { responseError } from './errors.js';
import { errorCode, safeUrl, type HttpResponse } from './http.js';

/** Where Docker Hub answers searches; `REGTOOL_HUB_SEARCH_URL` replaces it. */
export const HUB_SEARCH_URL = 'https://index.docker.io/v1/search';

/** How many results a search asks for unless told, as `docker search` does. */
export const HUB_SEARCH_DEFAULT_LIMIT = 25;

/** The most results the index gives for one search. */
export const HUB_SEARCH_MAX_LIMIT = 100;

/** One repository Docker Hub found. */
export interface HubSearchMatch {
  /** The full repository name: `docker.io/library/busybox`. */
  repository: string;
  description: string;
  stars: number;
  /** A Docker Official Image. */
  official: boolean;
}

export interface HubSearchOptions extends ClientOptions {
  /** How many results to ask for, 1 to 100 (default 25). */
  limit?: number;
}

// is_automated is left out: Docker Hub no longer has automated builds and `docker search`
// reports it as false whatever the index says.
const answerSchema = z.object({
  results: z.array(
    z.object({
      name: z.string(),
      description: z.string().nullish(),
      star_count: z.number().nullish(),
      is_official: z.boolean().nullish(),
    }),
  ),
});

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

/**
 * searchDockerHub asks Docker Hub's search API for repositories matching a word, through the
 * registry HTTP stack: proxies, CAs, retries of 5xx and dropped connections, and unreachable
 * hosts reported as network errors (exit 7).
 */
export async function searchDockerHub(
  word: string,
  options: HubSearchOptions = {},
): Promise<HubSearchMatch[]> {
  const limit = options.limit ?? HUB_SEARCH_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > HUB_SEARCH_MAX_LIMIT) {
    throw new UsageError(
      'USAGE',
      `Docker Hub gives 1 to ${HUB_SEARCH_MAX_LIMIT} search results, not ${limit}`,
      { hint: `give --limit a number from 1 to ${HUB_SEARCH_MAX_LIMIT}` },
    );
  }
  const url = hubSearchUrl(options.env);
  url.searchParams.set('q', word);
  url.searchParams.set('n', String(limit));

  const client = await RegistryClient.create(url.host, options);
  try {
    const headers = { accept: 'application/json' };
    const response = await client.send({ method: 'GET', url, headers });
    if (response.status !== 200) throw await searchError(response, word, url);
    return parseAnswer(await readAnswer(response, url), url);
  } finally {
    await client.close();
  }
}

async function searchError(response: HttpResponse, word: string, url: URL): Promise<RegtoolError> {
  if (response.status !== 404) return responseError(response, `the search for "${word}"`, url.host);
  await response.body.dump();
  return new NetworkError('HUB_SEARCH_NO_API', `${safeUrl(url)} has no search API (404)`, {
    hint: 'check REGTOOL_HUB_SEARCH_URL, or unset it to search Docker Hub',
  });
}

function invalidAnswer(url: URL, why: string, cause: unknown): NetworkError {
  return new NetworkError('HUB_SEARCH_INVALID', `${safeUrl(url)} sent no search result: ${why}`, {
    hint: 'try again later; if REGTOOL_HUB_SEARCH_URL is set, check that it is a search API',
    cause,
  });
}

async function readAnswer(response: HttpResponse, url: URL): Promise<unknown> {
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    throw invalidAnswer(url, `the answer broke off (${errorCode(error) ?? 'error'})`, error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidAnswer(url, 'the answer is not JSON', error);
  }
}

function parseAnswer(answer: unknown, url: URL): HubSearchMatch[] {
  const parsed = answerSchema.safeParse(answer);
  if (!parsed.success) throw invalidAnswer(url, 'the answer has no list of results', parsed.error);
  return parsed.data.results.map((result) => {
    const reference = tryParseReference(result.name);
    if (reference === undefined) {
      throw invalidAnswer(url, `"${result.name}" is not a repository name`, undefined);
    }
    return {
      repository: reference.repository,
      description: result.description ?? '',
      stars: result.star_count ?? 0,
      official: result.is_official ?? false,
    };
  });
}
