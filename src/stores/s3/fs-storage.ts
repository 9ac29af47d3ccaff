import { randomBytes } from 'node:crypto';
import { createWriteStream, type Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { readFileStream } from '../../core/file-stream.js';
import type { ObjectStorage } from './object-storage.js';

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * FsStorage keeps objects as files under a directory: a key is a relative path. Writes land
 * under a hidden temporary name beside their target and are renamed into place once complete;
 * listings skip hidden names.
 */
export class FsStorage implements ObjectStorage {
  readonly location: string;

  constructor(readonly root: string) {
    this.location = `dir:${root}`;
  }

  private path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const info = await stat(this.path(key));
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async read(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw error;
    }
  }

  async openRead(key: string): Promise<Readable | undefined> {
    if ((await this.size(key)) === undefined) return undefined;
    return readFileStream(this.path(key));
  }

  async write(key: string, bytes: Uint8Array | string): Promise<void> {
    const temp = await this.tempPath(key);
    try {
      await writeFile(temp, bytes);
      await rename(temp, this.path(key));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async writeStream(key: string, content: Readable): Promise<void> {
    const temp = await this.tempPath(key);
    try {
      await pipeline(content, createWriteStream(temp));
      await rename(temp, this.path(key));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
    for await (const key of this.walk(base)) {
      if (key.startsWith(prefix)) yield key;
    }
  }

  async exists(prefix: string): Promise<boolean> {
    for await (const key of this.list(prefix)) {
      if (key !== undefined) return true;
    }
    return false;
  }

  async remove(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.path(key), { force: true })));
  }

  private async *walk(dir: string): AsyncIterable<string> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.path(dir), { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const key = `${dir}${entry.name}`;
      if (entry.isDirectory()) yield* this.walk(`${key}/`);
      else if (entry.isFile()) yield key;
    }
  }

  /** tempPath makes the target's folder and names a hidden file in it. */
  private async tempPath(key: string): Promise<string> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  }
}
