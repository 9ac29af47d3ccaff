import { Option } from 'commander';

import { UsageError } from '../../core/errors.js';
import { searchDockerHub, type HubSearchMatch } from '../../stores/registry/hub-search.js';
import type { Context } from '../context.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import type { Register } from './index.js';
import { asRegistry } from './tags.js';

interface CatalogMatch {
  repository: string;
  /** Tags that match the word; every tag when the repository name matches. */
  tags: string[];
}

function limitOption(): Option {
  return new Option(
    '--limit <n>',
    'show at most N matches (default: 25 from Docker Hub, 100 at most; all from a catalog)',
  ).argParser((value) => {
    const limit = Number(value);
    if (!Number.isInteger(limit) || limit < 1) {
      throw new UsageError('USAGE', `--limit must be a whole number above 0, not "${value}"`, {
        hint: 'give the number of matches to show, e.g. --limit 10',
      });
    }
    return limit;
  });
}

/** oneLine keeps a description on one line; the output escapes the terminal controls left. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** widest is the length of the longest text, at least `least`. */
function widest(texts: string[], least: number): number {
  return texts.reduce((width, text) => Math.max(width, text.length), least);
}

function renderHubMatches(matches: HubSearchMatch[], word: string): string {
  if (matches.length === 0) return `no repository on Docker Hub matches "${word}"`;
  const width = widest(
    matches.map((m) => m.repository),
    4,
  );
  const starWidth = widest(
    matches.map((m) => String(m.stars)),
    5,
  );
  const row = (name: string, stars: string, official: string, description: string) =>
    [name.padEnd(width), stars.padStart(starWidth), official.padEnd(8), description]
      .join('  ')
      .trimEnd();
  const lines = [row('NAME', 'STARS', 'OFFICIAL', 'DESCRIPTION')];
  for (const m of matches) {
    lines.push(
      row(m.repository, String(m.stars), m.official ? '[OK]' : '', oneLine(m.description)),
    );
  }
  return lines.join('\n');
}

async function searchHub(context: Context, word: string, limit: number | undefined) {
  const matches = await searchDockerHub(word, {
    ...context.registry,
    limit,
    logger: context.output.logger,
    signal: context.signal,
  });
  context.output.result({ matches }, () => renderHubMatches(matches, word));
}

async function searchCatalog(
  context: Context,
  from: string,
  word: string,
  limit: number | undefined,
) {
  const store = asRegistry(await context.open(from, 'read'), 'search');
  const needle = word.toLowerCase();
  const matches: CatalogMatch[] = [];
  for await (const path of store.repositories()) {
    const tags = await store.tagsOrNone(path);
    if (tags.length === 0) continue;
    const byName = path.toLowerCase().includes(needle);
    const hits = byName ? tags : tags.filter((tag) => tag.toLowerCase().includes(needle));
    if (byName || hits.length > 0)
      matches.push({ repository: `${store.domain}/${path}`, tags: hits });
    if (matches.length === limit) break;
  }
  context.output.result({ matches }, () =>
    matches.map((m) => `${m.repository}${m.tags.length ? `  ${m.tags.join(' ')}` : ''}`).join('\n'),
  );
}

/**
 * `regtool search WORD`: repositories on Docker Hub, through its search API; with
 * `--from registry://HOST`, repositories and tags of that registry's catalog that contain WORD.
 */
export const registerSearch: Register = (program, run) => {
  const command = program
    .command('search')
    .description(
      "find repositories on Docker Hub, or repositories and tags in a registry's catalog",
    )
    .argument('<word>', 'the text to look for (case-insensitive)')
    .option('--from <store>', "search this registry's catalog instead, registry://HOST[/PREFIX]")
    .addOption(limitOption());
  addRegistryOptions(command).action(
    run(async (context, [word], options) => {
      useRegistryOptions(context, options);
      const limit = options.limit as number | undefined;
      if (options.from === undefined) await searchHub(context, word!, limit);
      else await searchCatalog(context, options.from as string, word!, limit);
    }),
  );
};
