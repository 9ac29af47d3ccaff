#!/usr/bin/env node
/**
 * Bundles the command-line tool (dist/cli/main.js, as tsc wrote it) into dist/bundle, which
 * bin/regtool runs: Node starts a few bundled files much faster than the hundreds of modules
 * they come from. Stores loaded on demand stay separate chunks, loaded only when used. The
 * library (dist/index.js) is left as tsc wrote it.
 *
 *   node scripts/bundle.mjs        (run by `npm run build`)
 */
import { rm } from 'node:fs/promises';

import { build } from 'esbuild';

await rm('dist/bundle', { recursive: true, force: true });
await build({
  entryPoints: ['dist/cli/main.js'],
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // Packages written as CommonJS still call require() for Node's own modules.
  banner: {
    js: [
      "import { createRequire as regtoolCreateRequire } from 'node:module';",
      'const require = regtoolCreateRequire(import.meta.url);',
    ].join(' '),
  },
});
