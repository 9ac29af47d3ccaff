import { RegtoolError } from '../../core/errors.js';
import { migrateStores, type MigrateSummary } from '../../copy/migrate.js';
import { layoutOf, layoutOption } from '../layout-option.js';
import { jobsOption } from '../options.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import { createProgress, formatBytes } from '../progress.js';
import type { Register } from './index.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** renderMigrateSummary writes the images by status, then blobs, bytes and time. */
export function renderMigrateSummary(summary: MigrateSummary): string {
  const { counts } = summary;
  const lines = summary.images
    .filter((image) => image.status !== 'up-to-date' && image.status !== 'moved')
    .map((image) => `${image.status} ${image.name} ${image.digest}`);
  const verb = summary.dryRun ? 'would move' : 'moved';
  const images = [
    `${summary.dryRun ? counts['to-move'] : counts.moved} images ${verb}`,
    `${counts['up-to-date']} up to date`,
  ];
  if (counts['not-held'] > 0) images.push(`${counts['not-held']} not held by the destination`);
  if (counts.failed > 0) images.push(`${counts.failed} failed`);
  if (counts.excluded > 0) images.push(`${counts.excluded} excluded`);
  lines.push(images.join(', '));
  lines.push(
    `${summary.blobsMoved} blobs ${verb} (${formatBytes(summary.bytesMoved)}), ` +
      `${summary.blobsSkipped} already there (${formatBytes(summary.bytesSkipped)}), ` +
      `${summary.seconds.toFixed(1)} s`,
  );
  return lines.join('\n');
}

/** `regtool migrate --from STORE --to STORE`: every image of one store into another. */
export const registerMigrate: Register = (program, run) => {
  const command = program
    .command('migrate')
    .description('copy every image (all tags, platforms and referrers) from one store to another')
    .requiredOption(
      '--from <store>',
      'where the images are: dir, dir:PATH, archive:FILE, registry://HOST, s3://BUCKET or a ' +
        'configured name',
    )
    .requiredOption('--to <store>', 'where they go')
    .option('--include <glob>', 'take only repo:tag names matching it (repeatable)', collect, [])
    .option('--exclude <glob>', 'leave out repo:tag names matching it (repeatable)', collect, [])
    .option('--dry-run', 'print what would move, and what is already there, and move nothing')
    .addOption(layoutOption())
    .option('--endpoint <url>', 'the S3 endpoint (default: AWS_ENDPOINT_URL or the config file)')
    .option('--region <region>', 'the S3 region (default: AWS_REGION or the config file)')
    .addOption(jobsOption());
  addRegistryOptions(command).action(
    run(async (context, _args, options) => {
      useRegistryOptions(context, options);
      const s3 = {
        endpoint: options.endpoint as string | undefined,
        region: options.region as string | undefined,
      };
      const from = await context.open(options.from as string, 'read', { s3 });
      const to = await context.open(options.to as string, 'write', { s3, ...layoutOf(options) });
      const progress = createProgress(context.output);
      let summary: MigrateSummary;
      try {
        summary = await migrateStores(from, to, {
          include: options.include as string[],
          exclude: options.exclude as string[],
          dryRun: options.dryRun === true,
          jobs: options.jobs as number,
          onEvent: progress.onEvent,
          signal: context.signal,
        });
      } finally {
        progress.stop();
      }
      context.output.result(summary, () => renderMigrateSummary(summary));
      if (summary.counts.failed > 0) {
        // Keep what did move: commit it, then say that the migrate is not complete.
        await context.finish();
        throw new RegtoolError(
          'internal',
          'MIGRATE_INCOMPLETE',
          `${summary.counts.failed} of ${summary.counts.selected} images could not be migrated`,
          { hint: 'see the warnings above; fix those images and run again, what moved is kept' },
        );
      }
    }),
  );
};
