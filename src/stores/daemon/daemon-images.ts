import { z } from 'zod';

import { MediaType } from '../../core/media-types.js';
import { tryParseReference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type { ImageEntry } from '../../core/store.js';
import type { EngineClient } from './engine-client.js';

const imageSummarySchema = z.looseObject({
  Id: z.string(),
  RepoTags: z.array(z.string()).nullish(),
  Size: z.number().optional(),
});

/**
 * configDescriptor describes an image as the daemon knows it: by its ID, which is the digest
 * of its config, with the size the daemon reports for the unpacked image.
 */
export function configDescriptor(answer: unknown): Descriptor {
  const image = imageSummarySchema.parse(answer);
  const digest = image.Id.includes(':') ? image.Id : `sha256:${image.Id}`;
  return { mediaType: MediaType.dockerConfig, digest, size: image.Size ?? 0 };
}

/** The name the daemon gives an untagged image. */
const UNTAGGED = '<none>:<none>';

/**
 * listDaemonImages lists the images a daemon holds, one entry per name, and one unnamed entry
 * for an image with no name. A daemon names an image by its config digest (the image ID), not
 * by a manifest, so each entry's descriptor is that of the config.
 */
export async function* listDaemonImages(client: EngineClient): AsyncIterable<ImageEntry> {
  const answer = await client.getJson('/images/json', 'listing the images of the daemon');
  const images = z.array(imageSummarySchema).parse(answer);
  for (const image of images) {
    const descriptor = configDescriptor(image);
    const names = (image.RepoTags ?? []).filter((name) => name !== UNTAGGED);
    if (names.length === 0) yield { descriptor };
    for (const name of names) {
      const reference = tryParseReference(name);
      yield reference?.toString() === name
        ? { reference, descriptor }
        : { reference, descriptor, name };
    }
  }
}
