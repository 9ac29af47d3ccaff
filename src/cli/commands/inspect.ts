import { UsageError } from '../../core/errors.js';
import { parseManifest } from '../../core/manifest.js';
import { formatPlatform } from '../../core/platform.js';
import { imageConfigSchema } from '../../core/schemas.js';
import type { Store } from '../../core/store.js';
import { readSmallBlob } from '../../copy/plan.js';
import { parseImageArgument } from '../context.js';
import { formatBytes } from '../progress.js';
import { findSource } from '../source.js';
import { addRegistryOptions, useRegistryOptions } from '../registry-options.js';
import type { Register } from './index.js';

/** `regtool inspect NAME [--from S] [--raw]`: manifest, config, platforms and sizes. */
export const registerInspect: Register = (program, run) => {
  const command = program
    .command('inspect')
    .description("show an image's manifest, config, platforms and sizes")
    .argument('<name>', 'the image')
    .option('--from <store>', 'where the image is (default: the local store, else its registry)')
    .option('--raw', 'print the manifest exactly as stored')
    .option('--config', 'print the image config exactly as stored');
  addRegistryOptions(command).action(
    run(async (context, [name], options) => {
      useRegistryOptions(context, options);
      const image = parseImageArgument(name!);
      const store = await findSource(context, image, options.from as string | undefined);
      const reference = store.locate(image.reference);
      const descriptor = await store.resolve(reference, image.asTyped);
      const { bytes, mediaType } = await store.getManifest(reference.repository, descriptor);
      const parsed = parseManifest(bytes, mediaType ?? descriptor.mediaType, `manifest of ${name}`);
      if (options.raw) {
        process.stdout.write(Buffer.from(bytes));
        return;
      }
      if (options.config) {
        if (parsed.kind !== 'image')
          throw new UsageError('USAGE', `${name} is an index, which has no config`, {
            hint: 'inspect one of its manifests by digest: NAME@sha256:…',
          });
        process.stdout.write(
          Buffer.from(await readSmallBlob(store, reference.repository, parsed.manifest.config)),
        );
        return;
      }
      const details = await describe(store, reference.repository, parsed);
      const result = {
        name: reference.toString(),
        digest: descriptor.digest,
        mediaType: parsed.mediaType,
        size: bytes.length,
        ...details,
      };
      context.output.result(result, () => renderInspect(result));
    }),
  );
};

async function describe(
  store: Store,
  repository: string,
  parsed: ReturnType<typeof parseManifest>,
) {
  if (parsed.kind === 'index') {
    return {
      manifests: parsed.index.manifests.map((entry) => ({
        digest: entry.digest,
        mediaType: entry.mediaType,
        size: entry.size,
        platform: entry.platform ? formatPlatform(entry.platform) : undefined,
        annotations: entry.annotations,
      })),
    };
  }
  if (parsed.kind === 'schema1')
    return { layers: parsed.manifest.fsLayers.map((layer) => ({ digest: layer.blobSum })) };
  const manifest = parsed.manifest;
  const layers = manifest.layers.map(({ digest, size, mediaType }) => ({
    digest,
    size,
    mediaType,
  }));
  const totalSize = manifest.config.size + layers.reduce((sum, layer) => sum + layer.size, 0);
  let config: Record<string, unknown> | undefined;
  const configBytes = await readSmallBlob(store, repository, manifest.config);
  const result = imageConfigSchema.safeParse(JSON.parse(Buffer.from(configBytes).toString('utf8')));
  if (result.success) {
    const { architecture, os, variant, created } = result.data;
    config = {
      digest: manifest.config.digest,
      architecture,
      os,
      variant,
      created,
      config: result.data.config ?? undefined,
    };
  } else {
    config = { digest: manifest.config.digest, mediaType: manifest.config.mediaType };
  }
  return { artifactType: manifest.artifactType, config, layers, totalSize };
}

function renderInspect(result: Record<string, unknown>): string {
  const lines = [
    `Name:       ${result.name}`,
    `Digest:     ${result.digest}`,
    `Media type: ${result.mediaType}`,
  ];
  const manifests = result.manifests as
    Array<{ digest: string; platform?: string; size: number }> | undefined;
  if (manifests) {
    lines.push('Manifests:');
    for (const m of manifests) lines.push(`  ${(m.platform ?? 'unknown').padEnd(16)} ${m.digest}`);
  }
  const config = result.config as
    { os?: string; architecture?: string; variant?: string; created?: string } | undefined;
  if (config?.os)
    lines.push(
      `Platform:   ${[config.os, config.architecture, config.variant].filter(Boolean).join('/')}`,
    );
  if (config?.created) lines.push(`Created:    ${config.created}`);
  const layers = result.layers as Array<{ digest: string; size?: number }> | undefined;
  if (layers) {
    lines.push(`Layers:     ${layers.length}`);
    for (const layer of layers)
      lines.push(
        `  ${layer.digest}${layer.size !== undefined ? `  ${formatBytes(layer.size)}` : ''}`,
      );
  }
  if (typeof result.totalSize === 'number')
    lines.push(`Size:       ${formatBytes(result.totalSize)}`);
  return lines.join('\n');
}
