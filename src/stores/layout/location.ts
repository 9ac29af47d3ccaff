import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * defaultStorePath is where the local store lives: `$REGTOOL_HOME`, else
 * `$XDG_DATA_HOME/regtool`, else `~/.local/share/regtool`.
 */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGTOOL_HOME) return env.REGTOOL_HOME;
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'regtool');
  return join(homedir(), '.local', 'share', 'regtool');
}
