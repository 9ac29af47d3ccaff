import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import type { Register } from './index.js';

/** `regtool ls [STORE]`: the images a store holds. */
export const registerLs: Register = (program, run) => {
  const command = program
    .command('ls')
    .description('list the images in a store (default: the local store)')
    .argument(
      '[store]',
      'dir, dir:PATH, archive:FILE, registry://HOST, s3://BUCKET, docker-daemon: or a configured ' +
        'name',
    );
  addRegistryOptions(command).action(
    run(async (context, [address], options) => {
      useRegistryOptions(context, options);
      const store = await context.open(address, 'read');
      const rows: Array<{
        name: string | null;
        reference: string | null;
        digest: string;
        mediaType: string;
        size: number;
      }> = [];
      for await (const entry of store.listImages()) {
        rows.push({
          name: entry.name ?? entry.reference?.toString() ?? null,
          reference: entry.reference?.toString() ?? null,
          digest: entry.descriptor.digest,
          mediaType: entry.descriptor.mediaType,
          size: entry.descriptor.size,
        });
      }
      context.output.result({ store: store.location, images: rows }, () => {
        if (rows.length === 0) return `no images in ${store.location}`;
        const width = Math.min(
          48,
          Math.max(4, ...rows.map((row) => (row.name ?? '<none>').length)),
        );
        const lines = [`${'NAME'.padEnd(width)}  DIGEST`];
        for (const row of rows)
          lines.push(`${(row.name ?? '<none>').padEnd(width)}  ${row.digest}`);
        return lines.join('\n');
      });
    }),
  );
};
