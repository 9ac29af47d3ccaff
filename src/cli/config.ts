import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { configSchema, type RegtoolConfig } from '../core/config-schema.js';
import { UsageError } from '../core/errors.js';

/** The configuration file and what it holds (no stores when it does not exist). */
export interface LoadedConfig {
  path: string;
  exists: boolean;
  config: RegtoolConfig;
}

/** configPath is `$XDG_CONFIG_HOME/regtool/config.json`, else `~/.config/regtool/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'regtool', 'config.json');
}

function invalid(path: string, why: string, cause: unknown): UsageError {
  return new UsageError('CONFIG_INVALID', `${path}: ${why}`, {
    cause,
    hint:
      'fix the file; stores look like {"stores": {"NAME": {"type": "s3", "bucket": "B"}}} ' +
      'and credentials come from the AWS environment, never from this file',
  });
}

/** loadConfig reads and validates the configuration file. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { path, exists: false, config: { stores: {} } };
    }
    throw invalid(path, `cannot be read (${(error as Error).message})`, error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(path, `is not valid JSON (${(error as Error).message})`, error);
  }
  const result = configSchema.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues
      .map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`)
      .join('; ');
    throw invalid(path, issues, result.error);
  }
  return { path, exists: true, config: result.data };
}
