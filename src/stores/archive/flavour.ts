import { UnsupportedError } from '../../core/errors.js';
import type { ArchiveContents, ArchiveImage } from './contents.js';
import { addDockerImages, readDockerManifest } from './docker-flavour.js';
import type { IndexedArchive } from './indexed-archive.js';
import { addLegacyImages } from './legacy-flavour.js';
import { folderView, imageFolder } from './image-folder.js';
import { settleNames } from './image-names.js';
import { checkEntryPaths } from './links.js';
import { addIndexImages, addLayoutBlobs } from './oci-flavour.js';

/** describeTar says in a few words what a tar that holds no image looks like. */
function describeTar(archive: IndexedArchive): string {
  const files = [...archive.entries.values()].filter((entry) => entry.type !== 'directory');
  const tar = archive.compression === 'none' ? 'tar' : `${archive.compression}-compressed tar`;
  if (files.length === 0) return `an empty ${tar}`;
  const sample = files
    .slice(0, 3)
    .map((entry) => entry.path)
    .join(', ');
  const more = files.length > 3 ? ', …' : '';
  return (
    `a ${tar} of ${files.length} files (${sample}${more}), like a single layer or a file ` +
    `system`
  );
}

/**
 * readArchiveContents tells an archive's flavour from what it holds, never from its name:
 * an OCI layout (index.json), Docker's manifest.json, both at once, or a pre-1.10 archive
 * with only `repositories` and v1 layer folders; or any of these tarred with the one folder
 * that holds them.
 */
export async function readArchiveContents(archive: IndexedArchive): Promise<ArchiveContents> {
  checkEntryPaths(archive.entries.values(), archive.what);
  const folder = imageFolder(archive);
  return readTopContents(folder === undefined ? archive : folderView(archive, folder));
}

/** readTopContents reads an archive whose image files are at its top. */
async function readTopContents(archive: IndexedArchive): Promise<ArchiveContents> {
  const contents: ArchiveContents = { flavour: '', images: [], blobs: new Map(), warnings: [] };
  const has = (path: string) => archive.entries.has(path);
  const flavours: string[] = [];
  addLayoutBlobs(archive, contents);
  let byConfig = new Map<string, ArchiveImage>();
  if (has('index.json')) {
    byConfig = await addIndexImages(archive, contents);
    flavours.push('oci');
  }
  if (has('manifest.json')) {
    await addDockerImages(archive, contents, await readDockerManifest(archive), byConfig);
    flavours.unshift('docker');
  }
  if (flavours.length === 0 && has('repositories')) {
    await addLegacyImages(archive, contents);
    flavours.push('docker-legacy');
  }
  if (flavours.length === 0) {
    throw new UnsupportedError(
      'ARCHIVE_NOT_IMAGE',
      `${archive.what} is ${describeTar(archive)}, not an image archive`,
      {
        hint:
          'an image archive has manifest.json (docker save), index.json (OCI) or ' +
          'repositories at its top; to make an image from files, build one',
      },
    );
  }
  contents.flavour = flavours.join('+');
  settleNames(contents, archive.what);
  return contents;
}
