import type { StoreAddress } from '../../core/store-address.js';
import { copyImages, type CopySummary } from '../../copy/copy-images.js';
import { parseImageArgument } from '../context.js';
import { addPlatformOptions, jobsOption, platformChoice } from '../options.js';
import { createProgress } from '../progress.js';
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
      const progress = createProgress(context.output);
      const summaries: CopySummary[] = [];
      try {
        for (const [target, group] of groups) {
          const address: string | StoreAddress = options.to
            ? target
            : { kind: 'registry', host: target, prefix: '' };
          const to = await context.open(address, 'write');
          const requests = group.map((image) => ({
            source: image.reference,
            asTyped: image.asTyped,
          }));
          summaries.push(
            await copyImages(from, to, requests, {
              platforms: platformChoice(options, true),
              jobs: options.jobs as number,
              onEvent: progress.onEvent,
              signal: context.signal,
            }),
          );
        }
      } finally {
        progress.stop();
      }
      const summary = mergeSummaries(summaries);
      context.output.result(summary, () => renderSummary(summary));
    }),
  );
};
