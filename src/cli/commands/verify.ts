import { IntegrityError } from '../../core/errors.js';
import { verifyStore } from '../../copy/verify.js';
import { formatBytes } from '../progress.js';
import type { Register } from './index.js';

/** `regtool verify [STORE]`: every blob's digest and size, and every descriptor resolves. */
export const registerVerify: Register = (program, run) => {
  program
    .command('verify')
    .description("check every manifest and blob of a store's images (default: the local store)")
    .argument('[store]', 'the store to check')
    .action(
      run(async (context, [address]) => {
        const store = await context.open(address, 'read');
        const report = await verifyStore(store, context.signal);
        context.output.result(
          { store: store.location, ...report, ok: report.problems.length === 0 },
          () => {
            // Plain text: stdout may be a file, and the output escapes control characters anyway.
            const lines = report.problems.map((p) => `FAIL ${p.image}: ${p.message}`);
            lines.push(
              `${report.images} images, ${report.manifests} manifests, ${report.blobs} blobs ` +
                `(${formatBytes(report.bytes)}) checked; ${report.problems.length} problems`,
            );
            return lines.join('\n');
          },
        );
        if (report.problems.length > 0) {
          throw new IntegrityError(
            'VERIFY_FAILED',
            `${store.location} has ${report.problems.length} damaged or missing objects`,
            {
              hint: 'copy the damaged images again from their source',
            },
          );
        }
      }),
    );
};
