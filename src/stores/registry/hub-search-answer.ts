/**
 * Reading what the v1 search API answers: a bounded JSON body, checked against the shape Docker
 * Hub gives, with only the results that name Docker Hub repositories kept.
 */
import { z } from 'zod';

import { NetworkError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { DEFAULT_DOMAIN, isRepositoryPath, tryParseReference } from '../../core/reference.js';
import { readBounded } from './bounded-body.js';
import { errorCode, safeUrl, type HttpResponse } from './http.js';

/** The largest search answer read: Docker Hub's 100 results take some 30 KB. */
export const HUB_SEARCH_MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** One repository Docker Hub found. */
export interface HubSearchMatch {
  /** The full repository name: `docker.io/library/busybox`. */
  repository: string;
  description: string;
  stars: number;
  /** A Docker Official Image. */
  official: boolean;
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

/** invalidAnswer is the error for an answer that is not a search result. */
function invalidAnswer(url: URL, why: string, cause?: unknown): NetworkError {
  return new NetworkError('HUB_SEARCH_INVALID', `${safeUrl(url)} sent no search result: ${why}`, {
    hint: 'try again later; if REGTOOL_HUB_SEARCH_URL is set, check that it is a search API',
    cause,
  });
}

function tooBig(url: URL): NetworkError {
  const mib = HUB_SEARCH_MAX_ANSWER_BYTES / 1024 / 1024;
  return invalidAnswer(url, `the answer is larger than ${mib} MiB`);
}

/** readText reads the answer's body, stopping as soon as it outgrows the limit. */
async function readText(response: HttpResponse, url: URL): Promise<string> {
  try {
    const bytes = await readBounded(response, HUB_SEARCH_MAX_ANSWER_BYTES, () => tooBig(url));
    return bytes.toString('utf8');
  } catch (error) {
    if (error instanceof NetworkError) throw error;
    throw invalidAnswer(url, `the answer broke off (${errorCode(error) ?? 'error'})`, error);
  }
}

/**
 * hubRepository is the full name of a result named as Docker Hub names them (`busybox`,
 * `user/repo`), or undefined for any other name: one with a registry host in front
 * (`ghcr.io/evil/busybox`), more than two parts, or characters no repository name has.
 */
function hubRepository(name: string): string | undefined {
  const parts = name.split('/');
  if (!isRepositoryPath(name) || parts.length > 2) return undefined;
  const reference = tryParseReference(name);
  // `index.docker.io/x` parses as Docker Hub's, but a Hub namespace never has a dot.
  if (reference?.domain !== DEFAULT_DOMAIN || (parts.length === 2 && parts[0]!.includes('.'))) {
    return undefined;
  }
  return reference.repository;
}

/**
 * readHubSearchAnswer reads a 200 answer into at most `limit` matches. Results that do not name
 * a Docker Hub repository are dropped with a warning: shown as Hub results, they would pass
 * another registry's images off as Docker Hub's.
 */
export async function readHubSearchAnswer(
  response: HttpResponse,
  url: URL,
  limit: number,
  logger: Logger,
): Promise<HubSearchMatch[]> {
  const text = await readText(response, url);
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch (error) {
    throw invalidAnswer(url, 'the answer is not JSON', error);
  }
  const parsed = answerSchema.safeParse(answer);
  if (!parsed.success) throw invalidAnswer(url, 'the answer has no list of results', parsed.error);

  const matches: HubSearchMatch[] = [];
  const foreign: string[] = [];
  for (const result of parsed.data.results) {
    const repository = hubRepository(result.name);
    if (repository === undefined) foreign.push(result.name);
    else matches.push(toMatch(repository, result));
  }
  if (foreign.length > 0) {
    logger.warn(
      `left out ${foreign.length} of ${parsed.data.results.length} results from ${safeUrl(url)}: ` +
        `they name no Docker Hub repository (such as "${foreign[0]}")`,
    );
  }
  // The server may send more than it was asked for; --limit is the most that is shown.
  return matches.slice(0, limit);
}

function toMatch(
  repository: string,
  result: z.infer<typeof answerSchema>['results'][number],
): HubSearchMatch {
  return {
    repository,
    description: result.description ?? '',
    stars: result.star_count ?? 0,
    official: result.is_official ?? false,
  };
}
