import { RegtoolError } from '../core/errors.js';
import type { Descriptor } from '../core/schemas.js';
import type { ImageEntry, Store } from '../core/store.js';
import { isManifestDescriptor, walkManifests } from '../core/walk.js';

/** A blob or manifest that failed verification. */
export interface VerifyProblem {
  image: string;
  digest: string;
  code: string;
  message: string;
  category: RegtoolError['category'];
}

export interface VerifyReport {
  images: number;
  manifests: number;
  blobs: number;
  bytes: number;
  problems: VerifyProblem[];
}

/**
 * verifyStore reads every manifest and blob every image in a store reaches, checking digests
 * and sizes and that every descriptor resolves. Each distinct blob is read once; a problem is
 * recorded and the check goes on.
 */
export async function verifyStore(store: Store, signal?: AbortSignal): Promise<VerifyReport> {
  const report: VerifyReport = { images: 0, manifests: 0, blobs: 0, bytes: 0, problems: [] };
  const checked = new Set<string>();
  for await (const entry of store.listImages()) {
    signal?.throwIfAborted();
    report.images += 1;
    await verifyImage(store, entry, report, checked);
  }
  return report;
}

async function verifyImage(
  store: Store,
  entry: ImageEntry,
  report: VerifyReport,
  checked: Set<string>,
) {
  const image = entry.name ?? entry.reference?.toString() ?? entry.descriptor.digest;
  const repository = entry.reference?.repository ?? '';
  const record = (digest: string, error: unknown) => {
    if (!(error instanceof RegtoolError)) throw error;
    report.problems.push({
      image,
      digest,
      code: error.code,
      message: error.message,
      category: error.category,
    });
  };
  const checkBlob = async (descriptor: Descriptor) => {
    if (checked.has(descriptor.digest)) return;
    checked.add(descriptor.digest);
    try {
      const stream = await store.getBlob(repository, descriptor);
      for await (const chunk of stream) report.bytes += (chunk as Buffer).length;
      report.blobs += 1;
    } catch (error) {
      record(descriptor.digest, error);
    }
  };
  if (!isManifestDescriptor(entry.descriptor)) {
    await checkBlob(entry.descriptor);
    return;
  }
  try {
    await walkManifests(
      entry.descriptor,
      (descriptor) => store.getManifest(repository, descriptor),
      async ({ parsed, descriptor }) => {
        if (!checked.has(descriptor.digest)) report.manifests += 1;
        checked.add(descriptor.digest);
        if (parsed.kind === 'index') {
          for (const child of parsed.index.manifests)
            if (!isManifestDescriptor(child)) await checkBlob(child);
        } else if (parsed.kind === 'image') {
          for (const blob of [parsed.manifest.config, ...parsed.manifest.layers])
            await checkBlob(blob);
        }
      },
    );
  } catch (error) {
    record(entry.descriptor.digest, error);
  }
}
