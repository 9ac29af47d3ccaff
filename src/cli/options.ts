import { Option, type Command } from 'commander';

import { UsageError } from '../core/errors.js';
import { hostPlatform, parsePlatform } from '../core/platform.js';
import type { PlatformChoice } from '../copy/plan.js';

/** addPlatformOptions adds --platform and --all-platforms to a command. */
export function addPlatformOptions(command: Command, defaultAll: boolean): Command {
  return command
    .option(
      '--platform <os/arch[/variant]>',
      `take one platform of a multi-platform ` +
        `image${defaultAll ? '' : " (default: this machine's)"}`,
    )
    .option(
      '--all-platforms',
      `keep every platform of a multi-platform image${defaultAll ? ' (default)' : ''}`,
    );
}

/** platformChoice reads --platform and --all-platforms. */
export function platformChoice(
  options: Record<string, unknown>,
  defaultAll: boolean,
): PlatformChoice {
  if (options.platform && options.allPlatforms) {
    throw new UsageError('USAGE', '--platform and --all-platforms exclude each other', {
      hint: 'give one of them',
    });
  }
  if (typeof options.platform === 'string')
    return { kind: 'one', platform: parsePlatform(options.platform), asked: true };
  if (options.allPlatforms || defaultAll) return { kind: 'all' };
  return { kind: 'one', platform: hostPlatform() };
}

export function jobsOption(): Option {
  return new Option('-j, --jobs <n>', 'blobs moved at once').default(4).argParser((value) => {
    const jobs = Number.parseInt(value, 10);
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) {
      throw new UsageError('USAGE', `--jobs must be a whole number from 1 to 64, not "${value}"`, {
        hint: 'the default, 4, suits most links; try -j 8 for a fast registry',
      });
    }
    return jobs;
  });
}
