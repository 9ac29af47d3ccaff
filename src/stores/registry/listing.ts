import { repositoryScope } from './auth.js';
import type { RegistryClient } from './client.js';
import { readAnswer, responseError } from './errors.js';
import type { HttpResponse } from './http.js';

/** Page size asked for; registries may send fewer and point at the rest with Link. */
const PAGE_SIZE = 1000;

/** nextPage reads the `rel="next"` target of a Link header, if there is one. */
export function nextPage(response: HttpResponse): string | undefined {
  const link = response.headers.link;
  const text = Array.isArray(link) ? link.join(', ') : (link ?? '');
  for (const part of text.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match && /;\s*rel="?next"?/i.test(match[2]!)) return new URL(match[1]!, response.url).href;
  }
  return undefined;
}

async function* pages<T>(
  client: RegistryClient,
  first: string,
  scopes: string[],
  what: string,
  pick: (body: T) => string[] | null | undefined,
): AsyncGenerator<string> {
  for (let path: string | undefined = first; path !== undefined;) {
    const response = await client.request({ method: 'GET', path, scopes });
    if (response.status !== 200) throw await responseError(response, what, client.domain);
    const bytes = await readAnswer(response, what, client.domain);
    const items = pick(JSON.parse(bytes.toString('utf8')) as T) ?? [];
    yield* items;
    path = items.length > 0 ? nextPage(response) : undefined;
  }
}

/** listTags yields every tag of a repository, following Link pagination. */
export function listTags(client: RegistryClient, path: string): AsyncGenerator<string> {
  return pages<{ tags?: string[] | null }>(
    client,
    `/v2/${path}/tags/list?n=${PAGE_SIZE}`,
    [repositoryScope(path, ['pull'])],
    `tags of ${client.domain}/${path}`,
    (body) => body.tags,
  );
}

/** listRepositories yields the registry's catalog, following Link pagination. */
export function listRepositories(client: RegistryClient): AsyncGenerator<string> {
  return pages<{ repositories?: string[] | null }>(
    client,
    `/v2/_catalog?n=${PAGE_SIZE}`,
    ['registry:catalog:*'],
    `the catalog of ${client.domain}`,
    (body) => body.repositories,
  );
}
