import { UsageError } from './errors.js';
import { isAttestation } from './manifest.js';
import type { Descriptor, Platform } from './schemas.js';

/** A platform reduced to the three parts that decide a match. */
export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

const archAliases: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  i386: '386',
  i686: '386',
  armhf: 'arm',
  armel: 'arm',
};

/**
 * normalizePlatform brings a platform to canonical form: arm64/v8 is arm64, arm alone is arm/v7.
 */
export function normalizePlatform(platform: PlatformSpec): PlatformSpec {
  const os = platform.os.toLowerCase() === 'macos' ? 'darwin' : platform.os.toLowerCase();
  const rawArch = platform.architecture.toLowerCase();
  const architecture = Object.hasOwn(archAliases, rawArch) ? archAliases[rawArch]! : rawArch;
  let variant = platform.variant?.toLowerCase() || undefined;
  if (variant !== undefined && /^[0-9]+$/.test(variant)) variant = `v${variant}`;
  if (rawArch === 'armhf' && variant === undefined) variant = 'v7';
  if (rawArch === 'armel' && variant === undefined) variant = 'v6';
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (architecture === 'arm' && variant === undefined) variant = 'v7';
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** parsePlatform reads `os/arch[/variant]`, e.g. `linux/arm64`, `linux/arm/v6`. */
export function parsePlatform(text: string): PlatformSpec {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => part === '')) {
    throw new UsageError('PLATFORM_INVALID', `"${text}" is not a platform`, {
      hint: 'write a platform as os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm/v7',
    });
  }
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] });
}

/** formatPlatform writes `os/arch[/variant]`. */
export function formatPlatform(platform: PlatformSpec): string {
  const parts = [platform.os, platform.architecture];
  if (platform.variant) parts.push(platform.variant);
  return parts.join('/');
}

const nodeOsNames: Record<string, string> = { win32: 'windows', sunos: 'solaris' };
const nodeArchNames: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  ppc64: 'ppc64le',
  mipsel: 'mipsle',
};

/**
 * nodePlatform translates Node's names (`process.platform`, `process.arch`) to OCI ones. On
 * 32-bit ARM the variant is the ARM version Node was built for: a v7 guess would pick images
 * that a v6 board cannot run.
 */
export function nodePlatform(os: string, arch: string, armVersion?: string): PlatformSpec {
  const variant = arch === 'arm' && armVersion ? armVersion : undefined;
  return normalizePlatform({
    os: Object.hasOwn(nodeOsNames, os) ? nodeOsNames[os]! : os,
    architecture: Object.hasOwn(nodeArchNames, arch) ? nodeArchNames[arch]! : arch,
    variant,
  });
}

/** hostPlatform is the platform of the machine regtool runs on. */
export function hostPlatform(): PlatformSpec {
  const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
  return nodePlatform(
    process.platform,
    process.arch,
    typeof armVersion === 'string' ? armVersion : undefined,
  );
}

/** The number in a variant; only amd64 is left without one by normalizing, and that means v1. */
function variantLevel(variant: string | undefined): number {
  return variant === undefined ? 1 : Number.parseInt(variant.replace(/^v/, ''), 10);
}

/**
 * platformScore ranks how well `candidate` runs on `wanted`: undefined when it cannot run,
 * 0 for an exact match and higher for older variants the wanted platform also runs
 * (an arm/v7 host runs v6 and v5; a v6 host never runs v7).
 */
export function platformScore(wanted: PlatformSpec, candidate: PlatformSpec): number | undefined {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return undefined;
  if (w.variant === c.variant) return 0;
  if (w.architecture === 'arm' || w.architecture === 'amd64') {
    const have = variantLevel(w.variant);
    const offer = variantLevel(c.variant);
    if (Number.isNaN(have) || Number.isNaN(offer) || offer > have) return undefined;
    return have - offer;
  }
  return undefined;
}

/** platformMatches tells whether a candidate platform runs on the wanted one. */
export function platformMatches(wanted: PlatformSpec, candidate: PlatformSpec): boolean {
  return platformScore(wanted, candidate) !== undefined;
}

/**
 * selectPlatformManifest picks from an index's entries the best image for a platform,
 * ignoring attestations. The order of entries never decides: ties go to the lowest digest.
 */
export function selectPlatformManifest(
  entries: readonly Descriptor[],
  wanted: PlatformSpec,
): Descriptor | undefined {
  let best: { entry: Descriptor; score: number } | undefined;
  for (const entry of entries) {
    if (!entry.platform || isAttestation(entry)) continue;
    const score = platformScore(wanted, entry.platform as Platform);
    if (score === undefined) continue;
    if (!best || score < best.score || (score === best.score && entry.digest < best.entry.digest)) {
      best = { entry, score };
    }
  }
  return best?.entry;
}
