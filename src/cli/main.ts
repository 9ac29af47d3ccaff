import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';

import { Command, CommanderError } from 'commander';

import { InterruptedError, RegtoolError, UsageError } from '../core/errors.js';
import { registerCommands } from './commands/index.js';
import { Context } from './context.js';
import { Output, tolerateClosedPipes, type GlobalOptions } from './output.js';

function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/** A command's action: it gets the context, its positional arguments and its own options. */
export type Action = (
  context: Context,
  args: string[],
  options: Record<string, unknown>,
) => Promise<void>;

function globalOptions(command: Command): GlobalOptions {
  const options = command.optsWithGlobals() as {
    json?: boolean;
    quiet?: boolean;
    verbose?: number;
    color?: boolean;
  };
  return {
    json: options.json ?? false,
    quiet: options.quiet ?? false,
    verbose: options.verbose ?? 0,
    color: (options.color ?? true) && process.env.NO_COLOR === undefined,
  };
}

function globalOptionsFromArgv(argv: string[]): GlobalOptions {
  const flags = argv.slice(2);
  const verbose = flags.reduce((sum, flag) => {
    if (flag === '--verbose') return sum + 1;
    return /^-v+$/.test(flag) ? sum + flag.length - 1 : sum;
  }, 0);
  return {
    json: flags.includes('--json'),
    quiet: flags.includes('-q') || flags.includes('--quiet'),
    verbose,
    color: !flags.includes('--no-color') && process.env.NO_COLOR === undefined,
  };
}

/**
 * watchForStall calls `report` if Node runs out of things to wait for while a command is still
 * running: some step waits on something that will never happen, and exiting 0 would claim
 * success. It returns the function that stops watching.
 */
function watchForStall(report: () => void): () => void {
  process.on('beforeExit', report);
  return () => process.off('beforeExit', report);
}

function stalled(): RegtoolError {
  return new RegtoolError(
    'internal',
    'COMMAND_STALLED',
    'the command stopped before it finished: it waits for something that will never happen',
    {
      hint:
        'this is a bug in regtool; what it wrote may be incomplete; run again with -v and ' +
        'report it',
    },
  );
}

/**
 * main runs the command line and returns the exit status. Ctrl-C aborts the running command,
 * whose stores then discard what they had half-written; a second Ctrl-C exits at once. A reader
 * that closes the output early (`| head -1`) loses the rest of it, and nothing else.
 */
export async function main(argv: string[]): Promise<number> {
  tolerateClosedPipes();
  const controller = new AbortController();
  // Every blob moved and request sent at once listens for the abort: up to --jobs (64) of each.
  setMaxListeners(0, controller.signal);
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    controller.abort(new InterruptedError());
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  let exitCode = 0;
  // Until a command runs, the global flags come straight from argv, so that a usage error
  // under --json is still one JSON document on stdout.
  let output = new Output(globalOptionsFromArgv(argv));
  if (output.options.json && argv.includes('--version')) {
    output.result({ version: packageVersion() }, () => undefined);
    return 0;
  }
  const program = new Command('regtool')
    .description(
      'Move container images between registries, archives, OCI layouts, S3 and Docker daemons',
    )
    .version(packageVersion(), '--version', 'print the version')
    .option('--json', 'print the result as one JSON document on stdout')
    .option('-q, --quiet', 'print nothing but the result and errors')
    .option(
      '-v, --verbose',
      'say more; twice for debug output',
      (_value, previous: number) => previous + 1,
      0,
    )
    .option('--no-color', 'no colors (NO_COLOR is honored too)')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text), outputError: () => {} });

  const run = (action: Action) =>
    async function (this: Command, ...raw: unknown[]) {
      const command = raw.at(-1) as Command;
      output = new Output(globalOptions(command));
      const context = new Context(output, controller.signal);
      const args = command.processedArgs
        .flat()
        .filter((value) => value !== undefined)
        .map(String);
      try {
        await action(context, args, command.opts());
        context.checkAborted();
        await context.finish();
      } catch (error) {
        await context.discard();
        throw controller.signal.aborted
          ? new InterruptedError('interrupted; nothing half-written was kept', { cause: error })
          : error;
      }
    };
  registerCommands(program, run);

  const unwatch = watchForStall(() => (process.exitCode = output.error(stalled())));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      exitCode = output.error(
        new UsageError('USAGE', error.message.replace(/^error: /, ''), {
          hint: 'see regtool --help',
        }),
      );
      return exitCode;
    }
    exitCode = output.error(error);
  } finally {
    unwatch();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  return exitCode;
}
