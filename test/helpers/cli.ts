import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa, execaSync } from 'execa';

/** The project's root directory. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The shared corpus of real archives, when it is there. */
export const corpusDir = resolve(projectRoot, '../shared/corpus');
export const hasCorpus = existsSync(corpusDir);

/** A fresh temporary directory. */
export function tempDir(prefix = 'regtool-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** copyWritable copies a read-only tree (the corpus) to a writable temporary place. */
export function copyWritable(from: string): string {
  const to = join(tempDir(), 'copy');
  cpSync(from, to, { recursive: true });
  execaSync('chmod', ['-R', 'u+w', to]);
  return to;
}

/** runRegtool runs the built CLI and returns its exit code and output; it never throws. */
export async function runRegtool(
  args: string[],
  options: { env?: Record<string, string>; input?: string; inputFile?: string } = {},
) {
  const result = await execa('node', [join(projectRoot, 'bin/regtool'), ...args], {
    env: { NO_COLOR: '1', ...options.env },
    input: options.input,
    inputFile: options.inputFile,
    reject: false,
    timeout: 120_000,
  });
  return {
    exitCode: result.exitCode ?? 1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
  };
}
