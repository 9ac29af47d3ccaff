import type { StoreAddress } from '../../core/store-address.js';
import type { CopySummary } from '../../copy/copy-images.js';
import { parseImageArgument, type ImageArgument } from '../context.js';
import { layoutOf, layoutOption } from '../layout-option.js';
import { requestsFor, withCopy } from '../copy-with-progress.js';
import { addPlatformOptions, jobsOption } from '../options.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import { renderSummary } from '../summary.js';
import type { Register } from './index.js';

/** groupByRegistry groups images by the registry their names point at. */
export function groupByRegistry(images: ImageArgument[]): Map<string, ImageArgument[]> {
  const groups = new Map<string, ImageArgument[]>();
  for (const image of images) {
    const group = groups.get(image.reference.domain) ?? [];
    group.push(image);
    groups.set(image.reference.domain, group);
  }
  return groups;
}

/** mergeSummaries adds up the summaries of several copies. */
export function mergeSummaries(summaries: CopySummary[]): CopySummary {
  return {
    images: summaries.flatMap((s) => s.images),
    blobsMoved: summaries.reduce((n, s) => n + s.blobsMoved, 0),
    blobsSkipped: summaries.reduce((n, s) => n + s.blobsSkipped, 0),
    bytesMoved: summaries.reduce((n, s) => n + s.bytesMoved, 0),
    bytesSkipped: summaries.reduce((n, s) => n + s.bytesSkipped, 0),
  };
}

/** `regtool pull NAME... [--to S]`: images from their registries into a store. */
export const registerPull: Register = (program, run) => {
  const command = program
    .command('pull')
    .description('copy images from their registries into a store (default: the local store)')
    .argument('<names...>', 'the images, e.g. busybox:1.36 ghcr.io/org/app:2')
    .option('--to <store>', 'where they go (default: the local store)')
    .addOption(jobsOption())
    .addOption(layoutOption());
  addRegistryOptions(addPlatformOptions(command, false)).action(
    run(async (context, names, options) => {
      useRegistryOptions(context, options);
      const images = names.map(parseImageArgument);
      const to = await context.open(options.to as string | undefined, 'write', layoutOf(options));
      const summaries = await withCopy(
        context,
        options,
        { allPlatforms: false, destination: to.location },
        async (copy) => {
          const done: CopySummary[] = [];
          for (const [domain, group] of groupByRegistry(images)) {
            const address: StoreAddress = { kind: 'registry', host: domain, prefix: '' };
            done.push(await copy(await context.open(address, 'read'), to, requestsFor(group)));
          }
          return done;
        },
      );
      const summary = mergeSummaries(summaries);
      context.output.result(summary, () => renderSummary(summary, to.location));
    }),
  );
};
