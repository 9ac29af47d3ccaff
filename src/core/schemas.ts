import { z } from 'zod';

const digestString = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, {
  message: 'not a digest',
});

export const platformSchema = z.object({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
  features: z.array(z.string()).optional(),
});

export const descriptorSchema = z.object({
  mediaType: z.string(),
  digest: digestString,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  data: z.string().optional(),
  platform: platformSchema.optional(),
  artifactType: z.string().optional(),
});

/** An OCI image manifest or a Docker schema 2 manifest. */
export const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** An OCI image index or a Docker manifest list. */
export const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** Docker's legacy schema 1 manifest: recognized, not converted. */
export const schema1ManifestSchema = z.object({
  schemaVersion: z.literal(1),
  name: z.string().optional(),
  tag: z.string().optional(),
  architecture: z.string().optional(),
  fsLayers: z.array(z.object({ blobSum: digestString })),
  history: z.array(z.object({ v1Compatibility: z.string() })).optional(),
});

/** The image configuration (OCI and Docker share it); unknown fields pass through. */
export const imageConfigSchema = z.looseObject({
  architecture: z.string().optional(),
  os: z.string().optional(),
  variant: z.string().optional(),
  created: z.string().optional(),
  config: z.looseObject({}).nullish(),
  rootfs: z.object({
    type: z.string(),
    diff_ids: z.array(digestString).nullish(),
  }),
  history: z.array(z.looseObject({ empty_layer: z.boolean().optional() })).nullish(),
});

/** One entry of a Docker archive's `manifest.json`. */
export const dockerArchiveEntrySchema = z.object({
  Config: z.string(),
  RepoTags: z.array(z.string()).nullish(),
  Layers: z.array(z.string()),
  Parent: z.string().optional(),
  LayerSources: z.record(z.string(), descriptorSchema).nullish(),
});

export const dockerArchiveManifestSchema = z.array(dockerArchiveEntrySchema);

/** The `index.json` of an OCI image layout. */
export const layoutIndexSchema = indexSchema;

export const ociLayoutFileSchema = z.object({ imageLayoutVersion: z.string() });

export type Platform = z.infer<typeof platformSchema>;
export type Descriptor = z.infer<typeof descriptorSchema>;
export type ImageManifest = z.infer<typeof imageManifestSchema>;
export type ImageIndex = z.infer<typeof indexSchema>;
export type Schema1Manifest = z.infer<typeof schema1ManifestSchema>;
export type ImageConfig = z.infer<typeof imageConfigSchema>;
export type DockerArchiveEntry = z.infer<typeof dockerArchiveEntrySchema>;
