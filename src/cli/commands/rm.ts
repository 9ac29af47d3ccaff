import { UnsupportedError } from '../../core/errors.js';
import { isImageDeleter } from '../../core/store.js';
import { parseImageArgument } from '../context.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import type { Register } from './index.js';

/** `regtool rm NAME... [--from S]`: remove names; their blobs stay until `prune`. */
export const registerRm: Register = (program, run) => {
  const command = program
    .command('rm')
    .description('remove images from a store (default: the local store); run prune to free space')
    .argument('<name...>', 'the images to remove')
    .option('--from <store>', 'the store to remove them from');
  addRegistryOptions(command).action(
    run(async (context, names, options) => {
      useRegistryOptions(context, options);
      const store = await context.open(options.from as string | undefined, 'write');
      if (!isImageDeleter(store)) {
        throw new UnsupportedError(
          'DELETE_UNSUPPORTED',
          `removing images from ${store.location} is not supported`,
        );
      }
      const removed: Array<{ name: string; digest: string }> = [];
      for (const name of names) {
        const image = parseImageArgument(name);
        const descriptor = await store.deleteImage(store.locate(image.reference), image.asTyped);
        removed.push({ name, digest: descriptor.digest });
      }
      context.output.result({ removed }, () =>
        removed.map((r) => `removed ${r.name} ${r.digest}`).join('\n'),
      );
    }),
  );
};
