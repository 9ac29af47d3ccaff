import type { IndexedArchive } from './indexed-archive.js';
import type { TarEntry } from './tar-index.js';

/** The files whose presence makes a folder an image archive's top. */
const IMAGE_FILES = ['index.json', 'manifest.json', 'oci-layout', 'repositories'];

/**
 * imageFolder finds the one folder every entry of an archive sits in, when that folder holds
 * an image archive: an OCI layout or a docker save tarred with its folder (`tar -cf x.tar
 * myimg`). Loading what is inside is the only reading such an archive has.
 */
export function imageFolder(archive: IndexedArchive): string | undefined {
  let folder: string | undefined;
  for (const path of archive.entries.keys()) {
    if (path === '') continue;
    const top = path.split('/')[0]!;
    if (folder === undefined) folder = top;
    else if (top !== folder) return undefined;
  }
  if (folder === undefined || IMAGE_FILES.some((name) => archive.entries.has(name)))
    return undefined;
  return IMAGE_FILES.some((name) => archive.entries.has(`${folder}/${name}`)) ? folder : undefined;
}

/**
 * folderView is the part of an archive under a folder, seen as an archive of its own. Entries
 * stay the same objects, so the archive reads them as before; hard links, named from the
 * archive's top, are renamed to match.
 */
export function folderView(archive: IndexedArchive, folder: string): IndexedArchive {
  const prefix = `${folder}/`;
  const entries = new Map<string, TarEntry>();
  for (const [path, entry] of archive.entries) {
    if (!path.startsWith(prefix)) continue;
    const moved =
      entry.type === 'hardlink' && entry.linkpath?.startsWith(prefix)
        ? { ...entry, linkpath: entry.linkpath.slice(prefix.length) }
        : entry;
    entries.set(path.slice(prefix.length), moved);
  }
  return {
    what: `${archive.what} (in its folder ${prefix})`,
    compression: archive.compression,
    limit: archive.limit,
    entries,
    head: (entry) => archive.head(entry),
    bytes: (entry) => archive.bytes(entry),
    stream: (entry) => archive.stream(entry),
    digest: (entry) => archive.digest(entry),
    close: () => archive.close(),
  };
}
