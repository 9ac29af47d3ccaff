import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { RegtoolError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/media-types.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import { ArchiveWriter } from '../../src/stores/archive/archive-writer.js';
import { copyImages } from '../../src/copy/copy-images.js';
import { parseReference } from '../../src/core/reference.js';
import { tempDir } from '../helpers/cli.js';
import { blobItems, descriptorOf, makeConfig, makeLayer, makeTar, writeTemp } from './build.js';
import { loadInto, saveFrom, tarList } from './helpers.js';

/** An OCI archive holding one image with a large layer of random (incompressible) gzip. */
function bigGzipImage() {
  const random = randomBytes(4 << 20);
  const tar = makeTar([{ path: 'random.bin', data: random }]);
  const gz = gzipSync(tar, { level: 1 });
  const config = makeConfig([sha256Digest(tar)]);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: descriptorOf(config, MediaType.ociConfig),
      layers: [descriptorOf(gz, MediaType.ociLayerGzip)],
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        ...descriptorOf(manifest, MediaType.ociManifest),
        annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/big:1' },
      },
    ],
  };
  return {
    gz,
    archive: makeTar([
      { path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      { path: 'index.json', data: JSON.stringify(index) },
      ...blobItems([config, manifest, gz]),
    ]),
  };
}

describe('the archive regtool writes', () => {
  it('is byte-identical when the same images are saved twice', async () => {
    const a = makeLayer({ 'a.txt': 'a' });
    const config = makeConfig([a.diffId]);
    const tar = makeTar([
      {
        path: 'manifest.json',
        data: JSON.stringify([{ Config: 'c.json', RepoTags: ['same:1'], Layers: ['l.tar'] }]),
      },
      { path: 'c.json', data: config },
      { path: 'l.tar', data: a.tar },
    ]);
    const { layout } = await loadInto(writeTemp('same.tar', tar));
    const outputs = [];
    for (const name of ['one.tar.gz', 'two.tar.gz', 'one.tar', 'two.tar']) {
      const path = join(tempDir(), name);
      await saveFrom(layout, ['same:1'], path);
      outputs.push(readFileSync(path));
    }
    expect(outputs[0]!.equals(outputs[1]!)).toBe(true);
    expect(outputs[2]!.equals(outputs[3]!)).toBe(true);
  });

  it('stores already-compressed layers in a .tar.gz without deflating them again', async () => {
    const { gz, archive } = bigGzipImage();
    const { layout } = await loadInto(writeTemp('big.tar', archive));
    const out = join(tempDir(), 'big.tar.gz');
    await saveFrom(layout, ['big:1'], out);
    await execa('gzip', ['-t', out]);
    const { stdout } = await execa('tar', ['tzf', out]);
    expect(stdout).toContain(`blobs/sha256/${sha256Digest(gz).slice(7)}`);
    const size = readFileSync(out).length;
    // Stored blocks cost a few bytes per 64 KiB; deflating random bytes would not shrink them.
    expect(size).toBeGreaterThan(gz.length);
    expect(size).toBeLessThan(gz.length * 1.01 + 4096);
    const reread = await loadInto(out);
    expect(reread.images.map((image) => image.name)).toEqual(['docker.io/library/big:1']);
  });

  it('writes zstd by suffix, and puts small files before layers', async () => {
    const { archive } = bigGzipImage();
    const { layout } = await loadInto(writeTemp('big.tar', archive));
    const out = join(tempDir(), 'big.tar.zst');
    await saveFrom(layout, ['big:1'], out);
    await execa('zstd', ['-t', '-q', out]);
    const plain = join(tempDir(), 'big.tar');
    await saveFrom(layout, ['big:1'], plain);
    const entries = await tarList(plain);
    expect(entries.slice(0, 4)).toEqual([
      'oci-layout',
      'index.json',
      'manifest.json',
      'repositories',
    ]);
  });

  it('leaves nothing behind when the save fails', async () => {
    const a = makeLayer({ 'a.txt': 'a' });
    const config = makeConfig([a.diffId]);
    const corrupt = Buffer.from(a.tar);
    corrupt[600] ^= 0xff;
    const tar = makeTar([
      {
        path: 'manifest.json',
        data: JSON.stringify([{ Config: 'c.json', RepoTags: ['bad:1'], Layers: ['l.tar'] }]),
      },
      { path: 'c.json', data: config },
      { path: 'l.tar', data: corrupt },
    ]);
    const reader = await ArchiveReader.open(writeTemp('bad.tar', tar));
    const dir = tempDir();
    const writer = await ArchiveWriter.toFile(join(dir, 'out.tar'), {});
    const error = await copyImages(reader, writer, [{ source: parseReference('bad:1') }]).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    await writer.abort();
    await reader.close();
    expect(error).toBeInstanceOf(RegtoolError);
    expect((error as RegtoolError).exitCode).toBe(5);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes to a stream the caller owns, without ending it', async () => {
    const { archive } = bigGzipImage();
    const { layout } = await loadInto(writeTemp('big.tar', archive));
    const chunks: Buffer[] = [];
    const { Writable } = await import('node:stream');
    let ended = false;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
      final(callback) {
        ended = true;
        callback();
      },
    });
    const writer = ArchiveWriter.toStream(sink, { compression: 'gzip' });
    await copyImages(layout, writer, [{ source: parseReference('big:1') }]);
    await writer.close();
    expect(ended).toBe(false);
    const path = writeTemp('streamed.tar.gz', Buffer.concat(chunks));
    writeFileSync(path, Buffer.concat(chunks));
    const reread = await loadInto(path);
    expect(reread.images).toHaveLength(1);
  });
});
