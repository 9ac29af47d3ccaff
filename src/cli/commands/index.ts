import type { Command } from 'commander';

import type { Action } from '../main.js';
import { registerConfig } from './config.js';
import { registerCopy } from './copy.js';
import { registerInspect } from './inspect.js';
import { registerLoad } from './load.js';
import { registerLogin } from './login.js';
import { registerLs } from './ls.js';
import { registerMigrate } from './migrate.js';
import { registerPrune } from './prune.js';
import { registerPull } from './pull.js';
import { registerPush } from './push.js';
import { registerRm } from './rm.js';
import { registerSave } from './save.js';
import { registerSearch } from './search.js';
import { registerTags } from './tags.js';
import { registerVerify } from './verify.js';

/** A command module adds its command to the program, wrapping its action with `run`. */
export type Register = (
  program: Command,
  run: (action: Action) => (...args: unknown[]) => Promise<void>,
) => void;

export function registerCommands(
  program: Command,
  run: (action: Action) => (...args: unknown[]) => Promise<void>,
): void {
  for (const register of [
    registerLs,
    registerInspect,
    registerCopy,
    registerRm,
    registerPrune,
    registerVerify,
    registerSave,
    registerLoad,
    registerMigrate,
    registerConfig,
    registerPull,
    registerPush,
    registerTags,
    registerSearch,
    registerLogin,
  ]) {
    register(program, run);
  }
}
