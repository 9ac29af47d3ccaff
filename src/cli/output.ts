import chalk, { Chalk, type ChalkInstance } from 'chalk';

import { RegtoolError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** The global flags every command shares. */
export interface GlobalOptions {
  json: boolean;
  quiet: boolean;
  verbose: number;
  color: boolean;
}

/**
 * Output is where the CLI writes: results on stdout (one JSON document with --json), and
 * everything else (progress, warnings, errors) on stderr.
 */
export class Output {
  readonly options: GlobalOptions;
  readonly style: ChalkInstance;
  readonly logger: Logger;

  constructor(options: GlobalOptions) {
    this.options = options;
    this.style = options.color && process.stderr.isTTY ? chalk : new Chalk({ level: 0 });
    this.logger = {
      debug: (message) => {
        if (options.verbose >= 2) this.note(this.style.dim(message));
      },
      warn: (message) => this.warn(message),
    };
  }

  /** result prints a command's result: JSON with --json, else the human rendering. */
  result(value: unknown, human: () => string | undefined): void {
    if (this.options.json) {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      return;
    }
    const text = human();
    if (text !== undefined && text !== '')
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** note prints a line of information on stderr, unless -q. */
  note(message: string): void {
    if (!this.options.quiet) process.stderr.write(`${message}\n`);
  }

  /** info prints a line only with -v. */
  info(message: string): void {
    if (this.options.verbose >= 1) this.note(message);
  }

  warn(message: string): void {
    process.stderr.write(`${this.style.yellow('warning:')} ${message}\n`);
  }

  /** error prints an error with its code and hint, and returns the exit status. */
  error(error: unknown): number {
    const known = error instanceof RegtoolError ? error : undefined;
    const code = known?.code ?? 'INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    if (this.options.json) {
      const body = { error: { code, message, hint: known?.hint, exitCode: known?.exitCode ?? 1 } };
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    }
    process.stderr.write(`${this.style.red(`error[${code}]:`)} ${message}\n`);
    if (known?.hint) process.stderr.write(`  ${this.style.dim('hint:')} ${known.hint}\n`);
    if (!known && this.options.verbose >= 1 && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
    if (!known)
      process.stderr.write('  hint: this is a bug in regtool; run again with -v and report it\n');
    return known?.exitCode ?? 1;
  }
}
