import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { parseDigest } from '../../core/digest.js';
import { NotFoundError, UsageError } from '../../core/errors.js';
import { parseManifest } from '../../core/manifest.js';
import { parseReference, tryParseReference, type Reference } from '../../core/reference.js';
import { parseStoreAddress } from '../../core/store-address.js';
import type { Descriptor } from '../../core/schemas.js';
import { isAccessChecker, type Store } from '../../core/store.js';
import type { CopyRequest, CopySummary } from '../../copy/copy-images.js';
import { ArchiveReader } from '../../stores/archive/archive-reader.js';
import type { ArchiveImage } from '../../stores/archive/contents.js';
import { LayoutStore } from '../../stores/layout/layout-store.js';
import { layoutOf, layoutOption } from '../layout-option.js';
import { withCopy } from '../copy-with-progress.js';
import { addPlatformOptions, jobsOption } from '../options.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import type { Register } from './index.js';

/**
 * The repository an unnamed image is filed under; its name has no tag, so stores keep it unnamed.
 */
const UNNAMED = parseReference('untagged', { defaultTag: false });

/** selectImages picks images by name, by `@N` (their position) or by manifest or config digest. */
async function selectImages(reader: ArchiveReader, names: string[]): Promise<ArchiveImage[]> {
  const images = reader.images;
  if (images.length === 0) {
    throw new NotFoundError('ARCHIVE_EMPTY', `${reader.location} holds no images`, {
      hint: 'the archive lists no image in its manifest.json or index.json; write it again',
    });
  }
  if (names.length === 0) return [...images];
  const picked: ArchiveImage[] = [];
  for (const name of names) {
    const position = /^@(\d+)$/.exec(name);
    const wanted = position ? undefined : tryParseReference(name);
    let matches: ArchiveImage[];
    if (position) matches = imagesAt(images, Number(position[1]));
    else {
      matches = [];
      for (const image of images) {
        const byName =
          image.name === name || (wanted && image.reference?.toString() === wanted.toString());
        const byDigest =
          image.descriptor.digest === name ||
          (await configDigestOf(reader, image.descriptor, image.descriptor.digest)) === name;
        if (byName || byDigest) matches.push(image);
      }
    }
    if (matches.length === 0) {
      throw new NotFoundError('IMAGE_NOT_FOUND', `${name} is not in ${reader.location}`, {
        hint: `list what is there with: regtool ls ${reader.location}, and pick by name or @N`,
      });
    }
    picked.push(...matches.filter((image) => !picked.includes(image)));
  }
  return picked;
}

/**
 * imagesAt picks the Nth image of an archive, counting manifests, not names, as skopeo's
 * `docker-archive:FILE:@N` does: every name the archive gives that manifest comes with it.
 */
function imagesAt(images: readonly ArchiveImage[], position: number): ArchiveImage[] {
  const digest = [...new Set(images.map((image) => image.descriptor.digest))][position];
  return images.filter((image) => image.descriptor.digest === digest);
}

/**
 * configDigestOf finds the config of the manifest loaded from an image: the image's own, or
 * that of the platform's manifest its index lists (a whole index has none).
 */
async function configDigestOf(
  store: Store,
  descriptor: Descriptor,
  loaded: string,
): Promise<string | undefined> {
  const { bytes } = await store.getManifest('', descriptor);
  const parsed = parseManifest(bytes, descriptor.mediaType);
  if (parsed.kind === 'image') return parsed.manifest.config.digest;
  if (parsed.kind !== 'index' || loaded === descriptor.digest) return undefined;
  const child = parsed.index.manifests.find((entry) => entry.digest === loaded);
  return child ? configDigestOf(store, child, loaded) : undefined;
}

function requestFor(image: ArchiveImage, tag: Reference | undefined): CopyRequest {
  const source = (image.reference ?? UNNAMED).withDigest(parseDigest(image.descriptor.digest));
  if (image.reference && !tag) return { source: image.reference, asTyped: image.name };
  return { source, target: tag ?? UNNAMED };
}

interface LoadedImage {
  name: string | null;
  digest: string;
  config: string | null;
}

/**
 * describeLoaded lists what was loaded: the name it has at the destination (a registry's host
 * and prefix in front), else the config digest that identifies it.
 */
async function describeLoaded(
  reader: ArchiveReader,
  destination: Store,
  images: ArchiveImage[],
  requests: CopyRequest[],
  summary: CopySummary,
): Promise<LoadedImage[]> {
  const loaded: LoadedImage[] = [];
  for (const [i, image] of images.entries()) {
    const target = requests[i]!.target ?? image.reference;
    const located = target && destination.locate(target).toString();
    // With --platform, what is stored is that platform's manifest, not the archive's index.
    const copied = summary.images.find((entry) => entry.target === located);
    const digest = copied?.digest ?? image.descriptor.digest;
    loaded.push({
      name: target && target.tag !== undefined ? located! : null,
      digest,
      config: (await configDigestOf(reader, image.descriptor, digest)) ?? null,
    });
  }
  return loaded;
}

function renderLoaded(image: LoadedImage): string {
  if (image.name) return `Loaded image: ${image.name} (${image.digest})`;
  return `Loaded untagged image: config ${image.config ?? image.digest} (manifest ${image.digest})`;
}

/**
 * imagesToTag tells which images --tag names: the untagged ones when there are any, else the
 * one image picked. A registry refuses an image without a name, so that is a usage error.
 */
function imagesToTag(
  reader: ArchiveReader,
  images: ArchiveImage[],
  tag: Reference | undefined,
  to: string | undefined,
): ArchiveImage[] {
  const untagged = images.filter((image) => !image.reference);
  const tagged = untagged.length > 0 ? untagged : images;
  if (tag && tagged.length > 1) {
    throw new UsageError('USAGE', `--tag names one image, but ${tagged.length} are selected`, {
      hint: 'pick one image by name or @N',
    });
  }
  const toRegistry = to !== undefined && parseStoreAddress(to).kind === 'registry';
  if (untagged.length > 0 && !tag && toRegistry) {
    throw new UsageError('USAGE', `${untagged.length} images in ${reader.location} have no name`, {
      hint: 'a registry needs a name: give one with --tag, and pick the image with @N',
    });
  }
  return tagged;
}

/**
 * spoolDirFor keeps what is spooled from an archive read in one pass (standard input, or a
 * compressed file) on the destination's own file system when the destination is a directory:
 * the nearest folder of it that exists.
 */
function spoolDirFor(destination: Store): string | undefined {
  if (!(destination instanceof LayoutStore)) return undefined;
  let dir = resolve(destination.dir);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * `regtool load -i FILE|- [NAME...] [--to S] [--tag NAME]`: images from an archive into a store.
 */
export const registerLoad: Register = (program, run) => {
  const command = program
    .command('load')
    .description('load the images of an archive (any docker, podman, skopeo, crane or OCI tarball)')
    .argument('[name...]', 'the images to load, by name or @N (default: all)')
    .requiredOption('-i, --input <file>', 'the archive; - reads standard input')
    .option('--to <store>', 'where the images go (default: the local store)')
    .option('--tag <name>', 'the name an untagged image gets')
    .addOption(jobsOption())
    .addOption(layoutOption());
  addRegistryOptions(addPlatformOptions(command, true)).action(
    run(async (context, names, options) => {
      useRegistryOptions(context, options);
      const input = options.input as string;
      const tag = options.tag === undefined ? undefined : parseReference(options.tag as string);
      const to = options.to as string | undefined;
      const destination = await context.open(to, 'write', layoutOf(options));
      // Refused credentials are told before a stream is read, not once it has been.
      if (isAccessChecker(destination)) await destination.checkAccess();
      const reader = await ArchiveReader.open(input === '-' ? process.stdin : input, {
        spoolDir: spoolDirFor(destination),
        once: true,
        logger: context.output.logger,
        readers: options.jobs as number,
        signal: context.signal,
      });
      try {
        const images = await selectImages(reader, names);
        const tagged = imagesToTag(reader, images, tag, to);
        const requests = images.map((image) =>
          requestFor(image, tagged.includes(image) ? tag : undefined),
        );
        const summary = await withCopy(context, options, { allPlatforms: true }, (copy) =>
          copy(reader, destination, requests),
        );
        await reader.finish();
        const loaded = await describeLoaded(reader, destination, images, requests, summary);
        context.output.result({ source: reader.location, flavour: reader.flavour, loaded }, () =>
          loaded.map(renderLoaded).join('\n'),
        );
      } finally {
        await reader.close();
      }
    }),
  );
};
