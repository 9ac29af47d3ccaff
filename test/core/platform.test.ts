import { describe, expect, it } from 'vitest';

import { sha256Digest } from '../../src/core/digest.js';
import { UsageError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/media-types.js';
import {
  formatPlatform,
  hostPlatform,
  nodePlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  platformScore,
  selectPlatformManifest,
  type PlatformSpec,
} from '../../src/core/platform.js';
import type { Descriptor } from '../../src/core/schemas.js';

function entry(platform: string, annotations?: Record<string, string>): Descriptor {
  const [os, architecture, variant] = platform.split('/');
  // Distinct per entry, so that a tie can only be broken by the rule, never by luck.
  const digest = sha256Digest(platform + JSON.stringify(annotations ?? {}));
  return {
    mediaType: MediaType.ociManifest,
    digest,
    size: 500,
    platform: { os: os!, architecture: architecture!, ...(variant ? { variant } : {}) },
    ...(annotations ? { annotations } : {}),
  };
}

const attestationAnnotations = {
  'vnd.docker.reference.type': 'attestation-manifest',
  'vnd.docker.reference.digest': `sha256:${'1'.repeat(64)}`,
};

/** Every ordering of a small array, or a fixed set of shuffles for a larger one. */
function orderings<T>(items: readonly T[]): T[][] {
  if (items.length <= 5) {
    if (items.length <= 1) return [[...items]];
    return items.flatMap((item, i) =>
      orderings([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
    );
  }
  const out: T[][] = [[...items], [...items].reverse()];
  let seed = 12345;
  for (let round = 0; round < 50; round++) {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const j = seed % (i + 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    out.push(copy);
  }
  return out;
}

/** Selects from every ordering of the entries and asserts the answer never changes. */
function selectInAnyOrder(entries: Descriptor[], wanted: string): Descriptor | undefined {
  const answers = orderings(entries).map((order) =>
    selectPlatformManifest(order, parsePlatform(wanted)),
  );
  for (const answer of answers) expect(answer).toEqual(answers[0]);
  return answers[0];
}

describe('normalizePlatform', () => {
  it.each<[PlatformSpec, PlatformSpec]>([
    [
      { os: 'linux', architecture: 'aarch64' },
      { os: 'linux', architecture: 'arm64' },
    ],
    [
      { os: 'linux', architecture: 'x86_64' },
      { os: 'linux', architecture: 'amd64' },
    ],
    [
      { os: 'linux', architecture: 'x86-64' },
      { os: 'linux', architecture: 'amd64' },
    ],
    [
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'linux', architecture: 'arm64' },
    ],
    [
      { os: 'linux', architecture: 'aarch64', variant: '8' },
      { os: 'linux', architecture: 'arm64' },
    ],
    [
      { os: 'linux', architecture: 'arm' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ],
    [
      { os: 'linux', architecture: 'arm', variant: '6' },
      { os: 'linux', architecture: 'arm', variant: 'v6' },
    ],
    [
      { os: 'linux', architecture: 'armhf' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ],
    [
      { os: 'linux', architecture: 'armel' },
      { os: 'linux', architecture: 'arm', variant: 'v6' },
    ],
    [
      { os: 'linux', architecture: 'amd64', variant: 'v1' },
      { os: 'linux', architecture: 'amd64' },
    ],
    [
      { os: 'linux', architecture: 'amd64', variant: 'v3' },
      { os: 'linux', architecture: 'amd64', variant: 'v3' },
    ],
    [
      { os: 'linux', architecture: 'i686' },
      { os: 'linux', architecture: '386' },
    ],
    [
      { os: 'Linux', architecture: 'AMD64', variant: '' },
      { os: 'linux', architecture: 'amd64' },
    ],
    [
      { os: 'macOS', architecture: 'arm64' },
      { os: 'darwin', architecture: 'arm64' },
    ],
  ])('%j → %j', (input, expected) => {
    expect(normalizePlatform(input)).toEqual(expected);
  });

  it('is idempotent', () => {
    for (const text of ['linux/arm', 'linux/arm64/v8', 'linux/x86_64', 'windows/amd64']) {
      const once = parsePlatform(text);
      expect(normalizePlatform(once)).toEqual(once);
    }
  });

  it('does not take inherited object keys for aliases', () => {
    expect(normalizePlatform({ os: 'linux', architecture: 'constructor' })).toEqual({
      os: 'linux',
      architecture: 'constructor',
    });
  });
});

describe('parsePlatform and formatPlatform', () => {
  it('reads os/arch and os/arch/variant, normalized', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('linux/arm')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('linux/aarch64')).toEqual(parsePlatform('linux/arm64'));
  });

  it.each(['', 'linux', 'linux/', '/amd64', 'linux//v7', 'linux/arm/v7/extra'])(
    'refuses %j with PLATFORM_INVALID',
    (text) => {
      expect(() => parsePlatform(text)).toThrow(UsageError);
      expect(() => parsePlatform(text)).toThrow(
        expect.objectContaining({ code: 'PLATFORM_INVALID' }),
      );
    },
  );

  it('writes what it reads', () => {
    for (const text of ['linux/amd64', 'linux/arm/v6', 'windows/amd64', 'linux/amd64/v3']) {
      expect(formatPlatform(parsePlatform(text))).toBe(text);
    }
  });
});

describe('nodePlatform and hostPlatform', () => {
  it.each([
    ['linux', 'x64', undefined, 'linux/amd64'],
    ['win32', 'x64', undefined, 'windows/amd64'],
    ['darwin', 'arm64', undefined, 'darwin/arm64'],
    ['linux', 'ia32', undefined, 'linux/386'],
    ['linux', 'ppc64', undefined, 'linux/ppc64le'],
    ['linux', 's390x', undefined, 'linux/s390x'],
    ['linux', 'arm', '6', 'linux/arm/v6'],
    ['linux', 'arm', '7', 'linux/arm/v7'],
    ['linux', 'arm', undefined, 'linux/arm/v7'],
    ['linux', 'arm64', '8', 'linux/arm64'],
  ])('%s %s (arm %s) is %s', (os, arch, armVersion, expected) => {
    expect(formatPlatform(nodePlatform(os, arch, armVersion))).toBe(expected);
  });

  it('describes this machine in normalized form', () => {
    const host = hostPlatform();
    expect(normalizePlatform(host)).toEqual(host);
    expect(host.os).not.toBe('win32');
    expect(host.architecture).not.toBe('x64');
  });
});

describe('platformScore and platformMatches', () => {
  const score = (wanted: string, candidate: string) =>
    platformScore(parsePlatform(wanted), parsePlatform(candidate));

  it('treats arm64 and arm64/v8 as the same platform', () => {
    expect(score('linux/arm64', 'linux/arm64/v8')).toBe(0);
    expect(score('linux/arm64/v8', 'linux/arm64')).toBe(0);
    expect(score('linux/aarch64', 'linux/arm64')).toBe(0);
  });

  it('treats arm without a variant as arm/v7', () => {
    expect(score('linux/arm', 'linux/arm/v7')).toBe(0);
    expect(platformScore({ os: 'linux', architecture: 'arm' }, parsePlatform('linux/arm/v7'))).toBe(
      0,
    );
  });

  it('lets a v7 host run v6 and v5, at a growing cost', () => {
    expect(score('linux/arm/v7', 'linux/arm/v6')).toBe(1);
    expect(score('linux/arm/v7', 'linux/arm/v5')).toBe(2);
  });

  it('never lets a v6 host take v7', () => {
    expect(score('linux/arm/v6', 'linux/arm/v7')).toBeUndefined();
    expect(score('linux/arm/v6', 'linux/arm')).toBeUndefined();
    expect(platformMatches(parsePlatform('linux/arm/v6'), parsePlatform('linux/arm/v7'))).toBe(
      false,
    );
  });

  it('lets an amd64/v3 host run older amd64 levels but not the reverse', () => {
    expect(score('linux/amd64/v3', 'linux/amd64')).toBe(2);
    expect(score('linux/amd64/v3', 'linux/amd64/v2')).toBe(1);
    expect(score('linux/amd64', 'linux/amd64/v2')).toBeUndefined();
  });

  it('refuses another os or architecture', () => {
    expect(score('linux/amd64', 'windows/amd64')).toBeUndefined();
    expect(score('linux/amd64', 'linux/arm64')).toBeUndefined();
    expect(score('linux/arm64', 'linux/arm/v7')).toBeUndefined();
  });
});

describe('selectPlatformManifest', () => {
  const multi = [
    entry('linux/amd64'),
    entry('linux/arm64/v8'),
    entry('linux/arm/v6'),
    entry('linux/arm/v7'),
    entry('linux/386'),
    entry('unknown/unknown', attestationAnnotations),
  ];

  it('picks the exact platform, whatever the order of entries', () => {
    expect(selectInAnyOrder(multi, 'linux/amd64')?.platform?.architecture).toBe('amd64');
    expect(selectInAnyOrder(multi, 'linux/arm64')?.platform).toEqual({
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
    });
    expect(selectInAnyOrder(multi, 'linux/arm/v7')?.platform?.variant).toBe('v7');
    expect(selectInAnyOrder(multi, 'linux/arm/v6')?.platform?.variant).toBe('v6');
  });

  it('gives a v7 host v6 only when nothing better is there', () => {
    const armOnly = [entry('linux/arm/v6'), entry('linux/arm/v5'), entry('linux/amd64')];
    expect(selectInAnyOrder(armOnly, 'linux/arm/v7')?.platform?.variant).toBe('v6');
  });

  it('never gives a v6 host a v7 image', () => {
    const newer = [entry('linux/arm/v7'), entry('linux/arm/v8'), entry('linux/arm64')];
    expect(selectInAnyOrder(newer, 'linux/arm/v6')).toBeUndefined();
  });

  it('matches an entry written as arm without variant for a v7 host', () => {
    const entries = [entry('linux/arm'), entry('linux/arm/v6')];
    expect(selectInAnyOrder(entries, 'linux/arm/v7')?.platform).toEqual({
      os: 'linux',
      architecture: 'arm',
    });
  });

  it('matches x86_64 and aarch64 spellings in the index', () => {
    const entries = [entry('linux/x86_64'), entry('linux/aarch64')];
    expect(selectInAnyOrder(entries, 'linux/amd64')?.platform?.architecture).toBe('x86_64');
    expect(selectInAnyOrder(entries, 'linux/arm64/v8')?.platform?.architecture).toBe('aarch64');
  });

  it('breaks a tie between equally good entries the same way in any order', () => {
    const twins = [entry('linux/amd64'), entry('linux/amd64/v1'), entry('linux/x86_64')];
    const chosen = selectInAnyOrder(twins, 'linux/amd64');
    const lowest = [...twins].sort((a, b) => (a.digest < b.digest ? -1 : 1))[0];
    expect(chosen).toEqual(lowest);
  });

  it('ignores attestations, by platform or by annotation', () => {
    const byPlatform = entry('unknown/unknown');
    const byAnnotation = entry('linux/amd64', attestationAnnotations);
    const image = entry('linux/amd64');
    expect(selectInAnyOrder([byPlatform, byAnnotation, image], 'linux/amd64')).toEqual(image);
    expect(selectInAnyOrder([byPlatform, byAnnotation], 'linux/amd64')).toBeUndefined();
    expect(selectInAnyOrder([byPlatform], 'unknown/unknown')).toBeUndefined();
  });

  it('skips entries without a platform and returns undefined when nothing runs', () => {
    const { platform: _omitted, ...bare } = entry('linux/amd64');
    expect(selectInAnyOrder([bare, entry('linux/s390x')], 'linux/amd64')).toBeUndefined();
    expect(selectPlatformManifest([], parsePlatform('linux/amd64'))).toBeUndefined();
  });
});
