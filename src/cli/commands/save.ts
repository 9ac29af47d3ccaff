import type { Readable } from 'node:stream';

import { NotFoundError, UnsupportedError, UsageError } from '../../core/errors.js';
import type { Reference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type { ImageEntry, ManifestContent, Store } from '../../core/store.js';
import { copyImages } from '../../copy/copy-images.js';
import type { OutputCompression } from '../../stores/archive/output-sink.js';
import { parseImageArgument, type Context, type ImageArgument } from '../context.js';
import { addPlatformOptions, platformChoice } from '../options.js';
import { createProgress, formatBytes } from '../progress.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import { findSource, parsePullPolicy, type PullPolicy } from '../source.js';
import type { Register } from './index.js';

const compressions: readonly OutputCompression[] = ['none', 'gzip', 'zstd'];

function readOnly(): UnsupportedError {
  return new UnsupportedError('SOURCE_READ_ONLY', 'save only reads its sources');
}

/**
 * RoutedSource reads each image from the store it was found in (the local store for some,
 * their registries for others), so that one archive can be written from several stores.
 */
class RoutedSource implements Store {
  readonly location = 'the local store and registries';

  constructor(private readonly routes: Map<string, Store>) {}

  locate(reference: Reference): Reference {
    return reference;
  }

  resolve(reference: Reference, asTyped?: string): Promise<Descriptor> {
    return this.route(reference.repository).resolve(reference, asTyped);
  }

  getManifest(repository: string, descriptor: Descriptor): Promise<ManifestContent> {
    return this.route(repository).getManifest(repository, descriptor);
  }

  hasManifest(repository: string, descriptor: Descriptor): Promise<boolean> {
    return this.route(repository).hasManifest(repository, descriptor);
  }

  hasBlob(repository: string, descriptor: Descriptor): Promise<boolean> {
    return this.route(repository).hasBlob(repository, descriptor);
  }

  getBlob(repository: string, descriptor: Descriptor): Promise<Readable> {
    return this.route(repository).getBlob(repository, descriptor);
  }

  async putBlob(): Promise<void> {
    throw readOnly();
  }

  async putManifest(): Promise<void> {
    throw readOnly();
  }

  async tag(): Promise<void> {
    throw readOnly();
  }

  async *listImages(): AsyncIterable<ImageEntry> {}

  async close(): Promise<void> {}

  async abort(): Promise<void> {}

  private route(repository: string): Store {
    const store = this.routes.get(repository);
    if (!store) throw new NotFoundError('IMAGE_NOT_FOUND', `no source holds ${repository}`);
    return store;
  }
}

/** openSources finds where each image is; one store when they all share it. */
async function openSources(
  context: Context,
  images: ImageArgument[],
  from: string | undefined,
  pull: PullPolicy,
): Promise<Store> {
  if (from !== undefined) return context.open(from, 'read');
  const routes = new Map<string, Store>();
  for (const image of images)
    routes.set(image.reference.repository, await findSource(context, image, undefined, pull));
  const stores = new Set(routes.values());
  if (stores.size === 1) return [...stores][0]!;
  return new RoutedSource(routes);
}

async function outputCompression(output: string, requested: unknown): Promise<OutputCompression> {
  if (requested === undefined) {
    if (output === '-') return 'none';
    const { compressionForPath } = await import('../../stores/archive/archive-writer.js');
    return compressionForPath(output);
  }
  if (!compressions.includes(requested as OutputCompression)) {
    throw new UsageError(
      'USAGE',
      `--compress must be none, gzip or zstd, not "${String(requested)}"`,
    );
  }
  return requested as OutputCompression;
}

/** `regtool save -o FILE NAME... [--from S]`: images into one archive every reader accepts. */
export const registerSave: Register = (program, run) => {
  const command = program
    .command('save')
    .description('write images to one archive that docker, podman, skopeo and regtool load')
    .argument('<name...>', 'the images, e.g. busybox:1.36')
    .requiredOption(
      '-o, --output <file>',
      'the archive (.tar, .tar.gz, .tar.zst); - writes standard output',
    )
    .option(
      '--from <store>',
      'where the images are (default: the local store, else their registry)',
    )
    .option('--compress <kind>', 'none, gzip or zstd (default: from the file name)')
    .option('--pull <when>', 'take images from their registry: missing (default), always, never');
  addRegistryOptions(addPlatformOptions(command, false)).action(
    run(async (context, names, options) => {
      useRegistryOptions(context, options);
      const pull = parsePullPolicy(options.pull);
      const output = options.output as string;
      const compression = await outputCompression(output, options.compress);
      const platforms = platformChoice(options, false);
      const images = names.map(parseImageArgument);
      // The archive writer loads tar and execa; only save needs them.
      const { ArchiveWriter } = await import('../../stores/archive/archive-writer.js');
      // The output is opened first, so that a path that cannot take an archive (a folder)
      // fails before anything is read.
      const writer =
        output === '-'
          ? ArchiveWriter.toStream(process.stdout, { compression })
          : await ArchiveWriter.toFile(output, { compression });
      const progress = createProgress(context.output);
      try {
        const from = options.from as string | undefined;
        const source = await openSources(context, images, from, pull);
        const summary = await copyImages(
          source,
          writer,
          images.map((image) => ({ source: image.reference, asTyped: image.asTyped })),
          { platforms, onEvent: progress.onEvent, signal: context.signal },
        );
        context.checkAborted();
        await writer.close();
        const result = { output, compression, images: summary.images, bytes: summary.bytesMoved };
        // With -o -, standard output carries the archive and nothing else.
        if (output === '-') return;
        context.output.result(result, () =>
          [
            ...summary.images.map((image) => `saved ${image.target} ${image.digest}`),
            `wrote ${output} (${summary.images.length} images, ` +
              `${formatBytes(summary.bytesMoved)} of layers)`,
          ].join('\n'),
        );
      } catch (error) {
        await writer.abort();
        throw error;
      } finally {
        progress.stop();
      }
    }),
  );
};
