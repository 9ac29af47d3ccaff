import { createHash } from 'node:crypto';

import { IntegrityError } from '../../core/errors.js';
import { createDecompressor, detectStreamCompression, SizeLimit } from './compression.js';
import { invalidMetadata, readJsonFile, type ArchiveContents } from './contents.js';
import { addDockerImage } from './docker-image.js';
import type { IndexedArchive } from './indexed-archive.js';
import { findEntry } from './links.js';
import type { TarEntry } from './tar-index.js';

/** How long a v1 parent chain may be before regtool calls it a loop. */
const MAX_CHAIN = 1000;

/** Keys of a v1 image json that describe the v1 layer, not the image. */
const v1OnlyKeys = new Set(['id', 'parent', 'Size', 'parent_id', 'layer_id', 'throwaway']);

type V1Json = Record<string, unknown> & { id?: string; parent?: string };

/** readRepositories reads `repositories`: `{ repository: { tag: v1 id } }`. */
async function readRepositories(archive: IndexedArchive): Promise<Map<string, string[]>> {
  const { value } = await readJsonFile(archive, 'repositories');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidMetadata(archive, 'repositories', 'is not a map of repositories to tags');
  }
  const names = new Map<string, string[]>();
  for (const [repository, tags] of Object.entries(value as Record<string, unknown>)) {
    for (const [tag, id] of Object.entries((tags ?? {}) as Record<string, unknown>)) {
      if (typeof id !== 'string') continue;
      names.set(id, [...(names.get(id) ?? []), `${repository}:${tag}`]);
    }
  }
  return names;
}

/** readChain follows the v1 json parent links from the top layer down to the base. */
async function readChain(archive: IndexedArchive, top: string): Promise<V1Json[]> {
  const chain: V1Json[] = [];
  for (let id: string | undefined = top; id !== undefined;) {
    if (chain.length >= MAX_CHAIN || chain.some((layer) => layer.id === id)) {
      throw new IntegrityError(
        'ARCHIVE_LINK_LOOP',
        `${archive.what}: v1 image ${top} has a parent loop`,
        {
          hint: 'the archive is damaged; write it again',
        },
      );
    }
    const { value } = await readJsonFile(archive, `${id}/json`);
    const json = value as V1Json;
    chain.unshift({ ...json, id });
    id = typeof json.parent === 'string' && json.parent !== '' ? json.parent : undefined;
  }
  return chain;
}

/** diffIdOf computes the digest of a layer's uncompressed bytes. */
async function diffIdOf(archive: IndexedArchive, entry: TarEntry): Promise<string> {
  const compression = detectStreamCompression(await archive.head(entry));
  if (compression === 'none') return archive.digest(entry);
  const hash = createHash('sha256');
  const decompressor = createDecompressor(compression);
  const source = archive.stream(entry);
  source.on('error', (error) => decompressor.destroy(error));
  const plain = source.pipe(decompressor).pipe(new SizeLimit(archive.limit, `layer ${entry.path}`));
  decompressor.on('error', (error) => plain.destroy(error));
  for await (const chunk of plain) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

function historyOf(layer: V1Json): Record<string, unknown> {
  const cmd = (layer.container_config as { Cmd?: unknown } | undefined)?.Cmd;
  const entry: Record<string, unknown> = { created: layer.created };
  if (layer.author) entry.author = layer.author;
  if (Array.isArray(cmd) && cmd.length > 0) entry.created_by = cmd.join(' ');
  if (layer.comment) entry.comment = layer.comment;
  return entry;
}

/**
 * buildConfig rebuilds an image config from a v1 parent chain, as Docker 1.10 migrated such
 * images: the top layer's json without the v1 fields, plus rootfs and history, keys sorted.
 */
function buildConfig(chain: V1Json[], diffIds: string[]): Buffer {
  const top = chain.at(-1)!;
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(top)) if (!v1OnlyKeys.has(key)) config[key] = value;
  config.rootfs = { type: 'layers', diff_ids: diffIds };
  config.history = chain.map(historyOf);
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1)));
  return Buffer.from(JSON.stringify(sorted));
}

/**
 * addLegacyImages adds the images of a pre-1.10 docker save archive (`repositories` and
 * `<id>/{json,layer.tar}` only), which Docker itself no longer loads.
 */
export async function addLegacyImages(
  archive: IndexedArchive,
  contents: ArchiveContents,
): Promise<void> {
  for (const [top, names] of await readRepositories(archive)) {
    const chain = await readChain(archive, top);
    const layers = chain.map((layer) =>
      findEntry(archive.entries, `${layer.id}/layer.tar`, archive.what),
    );
    const diffIds: string[] = [];
    for (const entry of layers) diffIds.push(await diffIdOf(archive, entry));
    await addDockerImage(archive, contents, {
      configBytes: buildConfig(chain, diffIds),
      layers,
      repoTags: names,
      configPath: `${top}/json`,
    });
  }
}
