import type { StoreAddress } from '../../core/store-address.js';
import type { CopySummary } from '../../copy/copy-images.js';
import { parseImageArgument } from '../context.js';
import { requestsFor, withCopy } from '../copy-with-progress.js';
import { addPlatformOptions, jobsOption } from '../options.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import { renderSummary } from '../summary.js';
import type { Register } from './index.js';
import { groupByRegistry, mergeSummaries } from './pull.js';

/** `regtool push NAME... [--from S] [--to registry://HOST[/PREFIX]]`: images into registries. */
export const registerPush: Register = (program, run) => {
  const command = program
    .command('push')
    .description('copy images from a store (default: the local store) to a registry')
    .argument('<names...>', 'the images, e.g. 127.0.0.1:5000/app:1')
    .option('--from <store>', 'where they are (default: the local store)')
    .option(
      '--to <store>',
      "where they go, registry://HOST[/PREFIX] (default: each name's registry)",
    )
    .addOption(jobsOption());
  addRegistryOptions(addPlatformOptions(command, true)).action(
    run(async (context, names, options) => {
      useRegistryOptions(context, options);
      const images = names.map(parseImageArgument);
      const from = await context.open(options.from as string | undefined, 'read');
      const groups = options.to
        ? new Map([[options.to as string, images]])
        : groupByRegistry(images);
      const summaries = await withCopy(context, options, { allPlatforms: true }, async (copy) => {
        const done: CopySummary[] = [];
        for (const [target, group] of groups) {
          const address: string | StoreAddress = options.to
            ? target
            : { kind: 'registry', host: target, prefix: '' };
          done.push(await copy(from, await context.open(address, 'write'), requestsFor(group)));
        }
        return done;
      });
      const summary = mergeSummaries(summaries);
      context.output.result(summary, () => renderSummary(summary));
    }),
  );
};
