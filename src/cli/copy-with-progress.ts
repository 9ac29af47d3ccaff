import type { Store } from '../core/store.js';
import { copyImages, type CopyRequest, type CopySummary } from '../copy/copy-images.js';
import type { Context, ImageArgument } from './context.js';
import { platformChoice } from './options.js';
import { createProgress } from './progress.js';

/** Copies images with the command's flags, reporting progress to the command's output. */
export type Copy = (from: Store, to: Store, requests: CopyRequest[]) => Promise<CopySummary>;

/**
 * withCopy runs `work` with a copy function that carries the command's --platform, --jobs and
 * abort signal, and one progress display for every copy it makes; the display stops however
 * `work` ends.
 */
export async function withCopy<T>(
  context: Context,
  options: Record<string, unknown>,
  settings: { allPlatforms: boolean; destination?: string },
  work: (copy: Copy) => Promise<T>,
): Promise<T> {
  const progress = createProgress(context.output, settings.destination);
  const copyOptions = {
    platforms: platformChoice(options, settings.allPlatforms),
    jobs: options.jobs as number | undefined,
    onEvent: progress.onEvent,
    signal: context.signal,
  };
  try {
    return await work((from, to, requests) => copyImages(from, to, requests, copyOptions));
  } finally {
    progress.stop();
  }
}

/** requestsFor asks for each image under its own name. */
export function requestsFor(images: ImageArgument[]): CopyRequest[] {
  return images.map((image) => ({ source: image.reference, asTyped: image.asTyped }));
}
