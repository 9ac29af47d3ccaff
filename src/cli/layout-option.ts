import { Option } from 'commander';

import type { StoreLayout } from '../core/config-schema.js';

/** layoutOption is `--layout oci|registry`, for commands that may create a dir or S3 store. */
export function layoutOption(): Option {
  return new Option(
    '--layout <layout>',
    'the layout of a new dir or S3 destination: oci (default) or registry ' +
      "(the Distribution registry's storage)",
  ).choices(['oci', 'registry']);
}

/** layoutOf reads --layout, for Context.open of the destination. */
export function layoutOf(options: Record<string, unknown>): { layout?: StoreLayout } {
  return { layout: options.layout as StoreLayout | undefined };
}
