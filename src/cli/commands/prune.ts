import { UnsupportedError } from '../../core/errors.js';
import { isBlobPruner } from '../../core/store.js';
import { formatBytes } from '../progress.js';
import type { Register } from './index.js';

/** `regtool prune [STORE]`: remove blobs that no image reaches. */
export const registerPrune: Register = (program, run) => {
  program
    .command('prune')
    .description('remove blobs no image uses any more (default: the local store)')
    .argument('[store]', 'the store to prune')
    .action(
      run(async (context, [address]) => {
        const store = await context.open(address, 'write');
        if (!isBlobPruner(store)) {
          throw new UnsupportedError(
            'PRUNE_UNSUPPORTED',
            `pruning ${store.location} is not supported`,
          );
        }
        const result = await store.prune();
        context.output.result(
          result,
          () =>
            `removed ${result.blobs} blobs (${formatBytes(result.bytes)})` +
            (result.tempFiles > 0 ? ` and ${result.tempFiles} temporary files` : ''),
        );
      }),
    );
};
