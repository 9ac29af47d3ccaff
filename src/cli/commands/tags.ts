import { UsageError } from '../../core/errors.js';
import type { Store } from '../../core/store.js';
import type { RegistryStore } from '../../stores/registry/registry-store.js';
import { parseImageArgument } from '../context.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import type { Register } from './index.js';

/** asRegistry checks that a store is a registry, for commands only registries answer. */
export function asRegistry(store: Store, command: string): RegistryStore {
  if (typeof (store as Partial<RegistryStore>).tags === 'function') return store as RegistryStore;
  throw new UsageError('STORE_NOT_REGISTRY', `${command} needs a registry, not ${store.location}`, {
    hint: 'name one with registry://HOST[/PREFIX]',
  });
}

/** `regtool tags NAME`: the tags of a repository in its registry. */
export const registerTags: Register = (program, run) => {
  const command = program
    .command('tags')
    .description("list the tags of an image's repository in its registry")
    .argument('<name>', 'the repository, e.g. 127.0.0.1:5000/tools');
  addRegistryOptions(command).action(
    run(async (context, [name], options) => {
      useRegistryOptions(context, options);
      const { reference } = parseImageArgument(name!);
      const address = { kind: 'registry' as const, host: reference.domain, prefix: '' };
      const store = asRegistry(await context.open(address, 'read'), 'tags');
      const tags: string[] = [];
      for await (const tag of store.tags(reference.path)) tags.push(tag);
      context.output.result({ repository: reference.repository, tags }, () => tags.join('\n'));
    }),
  );
};
