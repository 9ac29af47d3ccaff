import type { ArchiveContents, ArchiveImage } from './contents.js';

/** nameKey is what makes two names the same: the normalized reference, else the raw name. */
function nameKey(image: ArchiveImage): string | undefined {
  return image.reference?.toString() ?? image.name;
}

/**
 * settleNames makes the images' names what loading them stores, warning of each change. A name
 * that is no reference leaves its image unnamed. A name given to two different images goes to
 * the last one, as `docker load` does: the earlier image stays, unnamed unless it has another
 * name.
 */
export function settleNames(contents: ArchiveContents, what: string): void {
  for (const image of contents.images) {
    if (image.name !== undefined && image.reference === undefined) {
      contents.warnings.push(
        `${what}: image ${image.descriptor.digest} is named "${image.name}", which is not a ` +
          `valid image name; it is loaded without that name`,
      );
    }
  }
  const owner = new Map<string, ArchiveImage>();
  const kept: ArchiveImage[] = [];
  for (const image of [...contents.images].reverse()) {
    const key = nameKey(image);
    const winner = key === undefined ? undefined : owner.get(key);
    if (key === undefined || winner === undefined) {
      if (key !== undefined) owner.set(key, image);
      kept.push(image);
      continue;
    }
    if (winner.descriptor.digest !== image.descriptor.digest) {
      contents.warnings.push(
        `${what}: "${image.name}" names both ${image.descriptor.digest} and, later, ` +
          `${winner.descriptor.digest}; the later one gets the name`,
      );
      kept.push({ descriptor: image.descriptor });
    }
  }
  contents.images = dropRedundantUnnamed(kept.reverse());
}

/** dropRedundantUnnamed removes an unnamed entry for an image listed elsewhere, or listed twice. */
function dropRedundantUnnamed(images: ArchiveImage[]): ArchiveImage[] {
  const named = new Set(
    images.filter((image) => image.name).map((image) => image.descriptor.digest),
  );
  const unnamed = new Set<string>();
  return images.filter(({ name, descriptor: { digest } }) => {
    if (name !== undefined) return true;
    if (named.has(digest) || unnamed.has(digest)) return false;
    unnamed.add(digest);
    return true;
  });
}
