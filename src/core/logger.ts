/** Logger is how the library reports what it does; the CLI decides what reaches the terminal. */
export interface Logger {
  debug(message: string): void;
  warn(message: string): void;
}

/** silentLogger drops everything: the library's default. */
export const silentLogger: Logger = { debug() {}, warn() {} };
