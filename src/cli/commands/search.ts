import { UnsupportedError } from '../../core/errors.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import type { Register } from './index.js';
import { asRegistry } from './tags.js';

interface Match {
  repository: string;
  /** Tags that match the word; every tag when the repository name matches. */
  tags: string[];
}

/** `regtool search WORD --from registry://HOST`: repositories and tags that contain WORD. */
export const registerSearch: Register = (program, run) => {
  const command = program
    .command('search')
    .description("find repositories and tags whose names contain a word, in a registry's catalog")
    .argument('<word>', 'the text to look for (case-insensitive)')
    .option('--from <store>', 'the registry to search, registry://HOST[/PREFIX]');
  addRegistryOptions(command).action(
    run(async (context, [word], options) => {
      useRegistryOptions(context, options);
      if (options.from === undefined) {
        // TODO(#4): search Docker Hub through its own search API, which has no catalog.
        throw new UnsupportedError(
          'SEARCH_HUB_UNSUPPORTED',
          'searching Docker Hub is not supported yet',
          {
            hint: 'search a registry by its catalog: regtool search WORD --from registry://HOST',
          },
        );
      }
      const store = asRegistry(await context.open(options.from as string, 'read'), 'search');
      const needle = word!.toLowerCase();
      const matches: Match[] = [];
      for await (const path of store.repositories()) {
        const tags: string[] = [];
        for await (const tag of store.tags(path)) tags.push(tag);
        const byName = path.toLowerCase().includes(needle);
        const hits = byName ? tags : tags.filter((tag) => tag.toLowerCase().includes(needle));
        if (byName || hits.length > 0)
          matches.push({ repository: `${store.domain}/${path}`, tags: hits });
      }
      context.output.result({ matches }, () =>
        matches
          .map((m) => `${m.repository}${m.tags.length ? `  ${m.tags.join(' ')}` : ''}`)
          .join('\n'),
      );
    }),
  );
};
