import chalk, { Chalk, type ChalkInstance } from 'chalk';

import { RegtoolError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/**
 * Characters that steer a terminal or hide text rather than show it: C0 and C1 controls (but
 * newline and tab), bidirectional overrides and isolates, and zero-width characters. Names,
 * descriptions and messages from archives, registries and servers may carry any of them.
 */
const unsafeCharacters =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

function hex(character: string, digits: number): string {
  return character.charCodeAt(0).toString(16).padStart(digits, '0');
}

/** terminalText escapes the characters a terminal would obey (`\x1b`, `\u202e`) so they show. */
export function terminalText(text: string): string {
  return text.replace(unsafeCharacters, (character) =>
    character <= '\u00ff' ? `\\x${hex(character, 2)}` : `\\u${hex(character, 4)}`,
  );
}

/**
 * jsonText is a value as JSON: every string keeps its exact value, but the characters a
 * terminal would obey, which JSON.stringify leaves raw above U+001F, are written as `\u` and four
 * hex digits.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(unsafeCharacters, (c) => `\\u${hex(c, 4)}`);
}

function ignoreClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}

/**
 * tolerateClosedPipes lets a reader such as `head` stop reading early: what is left to write
 * is dropped, and the command ends with its own exit status instead of dying on EPIPE.
 */
export function tolerateClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (!stream.listeners('error').includes(ignoreClosedPipe)) stream.on('error', ignoreClosedPipe);
  }
}

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
        if (options.verbose >= 2 && !options.quiet)
          this.line(this.style.dim(terminalText(message)));
      },
      warn: (message) => this.warn(message),
    };
  }

  /** result prints a command's result: JSON with --json, else the human rendering. */
  result(value: unknown, human: () => string | undefined): void {
    if (this.options.json) {
      process.stdout.write(`${jsonText(value)}\n`);
      return;
    }
    const text = human();
    if (text !== undefined && text !== '')
      process.stdout.write(terminalText(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** note prints a line of information on stderr, unless -q. */
  note(message: string): void {
    if (!this.options.quiet) this.line(terminalText(message));
  }

  /** info prints a line only with -v. */
  info(message: string): void {
    if (this.options.verbose >= 1) this.note(message);
  }

  warn(message: string): void {
    this.line(`${this.style.yellow('warning:')} ${terminalText(message)}`);
  }

  /**
   * error prints an error with its code and hint, and returns the exit status. Messages may
   * quote what a server or archive said, so they go out as terminalText.
   */
  error(error: unknown): number {
    const known = error instanceof RegtoolError ? error : undefined;
    const code = known?.code ?? 'INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    if (this.options.json) {
      const body = { error: { code, message, hint: known?.hint, exitCode: known?.exitCode ?? 1 } };
      process.stdout.write(`${jsonText(body)}\n`);
    }
    this.line(`${this.style.red(`error[${code}]:`)} ${terminalText(message)}`);
    if (known?.hint) this.line(`  ${this.style.dim('hint:')} ${terminalText(known.hint)}`);
    if (!known && this.options.verbose >= 1 && error instanceof Error && error.stack) {
      this.line(terminalText(error.stack));
    }
    if (!known) this.line('  hint: this is a bug in regtool; run again with -v and report it');
    return known?.exitCode ?? 1;
  }

  /** line writes one line on stderr as it is: callers escape what came from outside. */
  private line(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}
