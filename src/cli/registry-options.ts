import type { Command } from 'commander';

import type { Context } from './context.js';

/**
 * addRegistryOptions adds --creds, --insecure and --ca-cert to a command that talks to registries.
 */
export function addRegistryOptions(command: Command): Command {
  return command
    .option(
      '--creds <user:password>',
      'credentials for the registries (default: those from regtool login)',
    )
    .option('--insecure', 'allow plain HTTP and unverified TLS for registries')
    .option('--ca-cert <file>', 'trust the CA certificates in this PEM file too');
}

/** useRegistryOptions hands the registry flags to the stores the command will open. */
export function useRegistryOptions(context: Context, options: Record<string, unknown>): void {
  context.registry = {
    creds: options.creds as string | undefined,
    insecure: options.insecure === true,
    caCert: options.caCert as string | undefined,
  };
}
