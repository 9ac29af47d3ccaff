import type { Ora } from 'ora';

import type { CopyEvent, EventSink } from '../copy/events.js';
import { terminalText, type Output } from './output.js';

function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export { formatBytes };

function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** inStore appends the destination store to a line, so that a copy says where it went. */
function inStore(line: string, destination: string | undefined): string {
  return destination === undefined ? line : `${line} (${destination})`;
}

/**
 * createProgress renders copy events: an ora spinner on a terminal, one line per blob
 * elsewhere, nothing with -q or --json. `destination` (the target store's location) is named
 * beside each image's target. `stop` ends the spinner.
 */
export function createProgress(
  output: Output,
  destination?: string,
): { onEvent: EventSink; stop: () => void } {
  if (output.options.quiet || output.options.json) return { onEvent: () => {}, stop: () => {} };
  if (process.stderr.isTTY) return spinnerProgress(output, destination);
  return { onEvent: (event) => lineProgress(output, event, destination), stop: () => {} };
}

function lineProgress(output: Output, event: CopyEvent, destination?: string): void {
  switch (event.type) {
    case 'image-start':
      output.note(inStore(`copying ${event.source} -> ${event.target}`, destination));
      break;
    case 'blob-done':
      output.note(
        `  blob ${shortDigest(event.descriptor.digest)} done (${formatBytes(event.bytes)})`,
      );
      break;
    case 'blob-skip':
      if (event.reason !== 'duplicate') {
        output.note(`  blob ${shortDigest(event.descriptor.digest)} skipped (${event.reason})`);
      }
      break;
    case 'image-done':
      output.note(
        inStore(
          `${event.upToDate ? 'up to date' : 'copied'}: ${event.target} ${event.descriptor.digest}`,
          destination,
        ),
      );
      break;
    case 'warning':
      output.warn(event.message);
      break;
    default:
      break;
  }
}

function spinnerProgress(
  output: Output,
  destination?: string,
): { onEvent: EventSink; stop: () => void } {
  let spinner: Ora | undefined;
  // ora is loaded only for a terminal; until it is there, progress is simply not drawn.
  let makeSpinner: typeof import('ora').default | undefined;
  void import('ora').then((module) => {
    makeSpinner = module.default;
  });
  const active = new Map<string, { done: number; size: number }>();
  let moved = 0;
  const render = (label: string) => {
    let done = moved;
    let total = moved;
    for (const blob of active.values()) {
      done += blob.done;
      total += blob.size;
    }
    const of = total > done ? ` / ${formatBytes(total)}` : '';
    const text = `${terminalText(label)} ${formatBytes(done)}${of}`;
    if (!makeSpinner) return;
    spinner ??= makeSpinner({
      text,
      stream: process.stderr,
      color: output.options.color ? 'cyan' : false,
    }).start();
    spinner.text = text;
  };
  let label = '';
  const onEvent: EventSink = (event) => {
    switch (event.type) {
      case 'image-start':
        label = inStore(`${event.source} -> ${event.target}`, destination);
        render(label);
        break;
      case 'blob-start':
        active.set(event.descriptor.digest, { done: 0, size: event.descriptor.size });
        render(label);
        break;
      case 'blob-progress':
        active.set(event.descriptor.digest, { done: event.bytes, size: event.descriptor.size });
        render(label);
        break;
      case 'blob-done':
        active.delete(event.descriptor.digest);
        moved += event.bytes;
        render(label);
        break;
      case 'image-done':
        spinner?.succeed(
          terminalText(
            inStore(`${event.upToDate ? 'up to date' : 'copied'}: ${event.target}`, destination),
          ),
        );
        spinner = undefined;
        break;
      case 'warning':
        spinner?.clear();
        output.warn(event.message);
        break;
      default:
        break;
    }
  };
  return { onEvent, stop: () => spinner?.stop() };
}
