import { copyImages } from '../../copy/copy-images.js';
import { copyReferrers } from '../../copy/referrers.js';
import { parseImageArgument } from '../context.js';
import { layoutOf, layoutOption } from '../layout-option.js';
import { addPlatformOptions, jobsOption, platformChoice } from '../options.js';
import { createProgress } from '../progress.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import { renderSummary } from '../summary.js';
import type { Register } from './index.js';
import { mergeSummaries } from './pull.js';

/** `regtool copy NAME [NEWNAME] --from S --to S`: one image from one store to another. */
export const registerCopy: Register = (program, run) => {
  const command = program
    .command('copy')
    .description('copy an image between any two stores')
    .argument('<name>', 'the image, e.g. busybox:1.36')
    .argument('[newname]', 'the name it gets at the destination (default: the same)')
    .option('--from <store>', 'where the image is (default: the registry its name points at)')
    .option('--to <store>', "where it goes (default: NEWNAME's registry, else the local store)")
    .option(
      '--referrers',
      'copy the signatures, SBOMs and attestations that refer to the image too',
    )
    .option('--from-creds <user:password>', 'credentials for the source registry only')
    .option('--to-creds <user:password>', 'credentials for the destination registry only')
    .addOption(jobsOption())
    .addOption(layoutOption());
  addRegistryOptions(addPlatformOptions(command, true)).action(
    run(async (context, [name, newName], options) => {
      useRegistryOptions(context, options);
      const shared = context.registry;
      const source = parseImageArgument(name!);
      const target = newName === undefined ? undefined : parseImageArgument(newName);
      context.registry = { ...shared, creds: (options.fromCreds as string) ?? shared.creds };
      const from = await context.open(
        (options.from as string | undefined) ?? {
          kind: 'registry',
          host: source.reference.domain,
          prefix: '',
        },
        'read',
      );
      const toAddress =
        (options.to as string | undefined) ??
        (target
          ? { kind: 'registry' as const, host: target.reference.domain, prefix: '' }
          : undefined);
      context.registry = { ...shared, creds: (options.toCreds as string) ?? shared.creds };
      const to = await context.open(toAddress, 'write', layoutOf(options));
      const progress = createProgress(context.output, to.location);
      const copyOptions = {
        platforms: platformChoice(options, true),
        jobs: options.jobs as number,
        onEvent: progress.onEvent,
        signal: context.signal,
      };
      try {
        const request = {
          source: source.reference,
          asTyped: source.asTyped,
          target: target?.reference,
        };
        const copied = await copyImages(from, to, [request], copyOptions);
        const image = {
          source: source.reference,
          target: target?.reference ?? source.reference,
          digest: copied.images[0]!.digest,
        };
        const referrers = options.referrers
          ? await copyReferrers(from, to, image, copyOptions)
          : [];
        const summary = mergeSummaries([copied, ...referrers]);
        context.output.result(summary, () => renderSummary(summary, to.location));
      } finally {
        progress.stop();
      }
    }),
  );
};
