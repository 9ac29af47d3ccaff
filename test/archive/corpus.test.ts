import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { RegtoolError } from '../../src/core/errors.js';
import { verifyStore } from '../../src/copy/verify.js';
import { ArchiveReader } from '../../src/stores/archive/archive-reader.js';
import { corpusDir, hasCorpus, runRegtool, tempDir } from '../helpers/cli.js';
import { loadInto } from './helpers.js';

const imageArchives = [
  'ggcr/hello-world-v25.tar',
  'ggcr/no_manifest.tar',
  'ggcr/overwritten_file.tar',
  'ggcr/source_image.tar',
  'ggcr/source_image_with_empty_layer_history.tar',
  'ggcr/test_bundle.tar',
  'ggcr/test_image_1.tar',
  'ggcr/test_image_2.tar',
  'dive/test-docker-image.tar',
  'dive/test-oci-gzip-image.tar',
  'dive/test-oci-uncompressed-image.tar',
];

const notImages: Record<string, string> = {
  'ggcr/content.tar': 'ARCHIVE_NOT_IMAGE',
  'ggcr/content.tar.zst': 'ARCHIVE_NOT_IMAGE',
  'ggcr/null_manifest.tar': 'ARCHIVE_MANIFEST_INVALID',
  'regclient/layer.tar': 'ARCHIVE_NOT_IMAGE',
};

// The corpus of real archives lives beside the project; without it there is nothing to read.
describe.skipIf(!hasCorpus)('the corpus of real archives', () => {
  it.each(imageArchives)('%s loads and verifies', async (name) => {
    const { layout, images } = await loadInto(join(corpusDir, name));
    expect(images.length).toBeGreaterThan(0);
    const report = await verifyStore(layout);
    expect(report.problems).toEqual([]);
    expect(report.images).toBe(images.length);
  });

  it('rebuilds a pre-1.10 archive from its v1 parent chain', async () => {
    const reader = await ArchiveReader.open(join(corpusDir, 'ggcr/no_manifest.tar'));
    expect(reader.flavour).toBe('docker-legacy');
    expect(reader.images.map((image) => image.reference?.toString())).toEqual([
      'docker.io/bazel/v1/tarball:test_image',
    ]);
    await reader.close();
  });

  it('keeps the manifest Docker 25 stored, though index.json lists none', async () => {
    const reader = await ArchiveReader.open(join(corpusDir, 'ggcr/hello-world-v25.tar'));
    expect(reader.images.map((image) => image.descriptor.digest)).toEqual([
      'sha256:411caf340c828657e915a83ed561a79d2b8150dabad4dc079d881cbfe6f86afe',
    ]);
    await reader.close();
  });

  it.each(Object.keys(notImages))('%s is refused with a clear error', async (name) => {
    const error = await ArchiveReader.open(join(corpusDir, name)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(RegtoolError);
    expect((error as RegtoolError).code).toBe(notImages[name]);
    expect([5, 6]).toContain((error as RegtoolError).exitCode);
    const result = await runRegtool([
      'load',
      '-i',
      join(corpusDir, name),
      '--to',
      `dir:${tempDir()}/x`,
    ]);
    expect([5, 6]).toContain(result.exitCode);
    expect(result.stderr).toMatch(/not an image archive|not a list of images/);
  });
});
