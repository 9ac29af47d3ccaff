import { describe, expect, it } from 'vitest';

import { parseChallenges } from '../../src/stores/registry/challenge.js';

describe('parseChallenges', () => {
  it('keeps a comma inside a quoted scope whole (R2)', () => {
    const header =
      'Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push"';
    expect(parseChallenges(header)).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'http://127.0.0.1:1/token',
          service: 'reg',
          scope: 'repository:a/b:pull,push',
        },
      },
    ]);
  });

  it('reads escapes, spaces around "=", and case-insensitive schemes and names', () => {
    const [challenge] = parseChallenges('BEARER Realm = "a\\"b" , Service=svc');
    expect(challenge).toEqual({ scheme: 'bearer', params: { realm: 'a"b', service: 'svc' } });
  });

  it('splits several challenges in one header and across headers', () => {
    const parsed = parseChallenges([
      'Basic realm="harbor", Bearer realm="https://auth/token",service="x"',
      'Negotiate',
    ]);
    expect(parsed.map((c) => c.scheme)).toEqual(['basic', 'bearer', 'negotiate']);
    expect(parsed[1]!.params).toEqual({ realm: 'https://auth/token', service: 'x' });
  });

  it('reads Nexus and Harbor Basic realms (R3)', () => {
    expect(parseChallenges('BASIC realm="Sonatype Nexus Repository Manager"')).toEqual([
      { scheme: 'basic', params: { realm: 'Sonatype Nexus Repository Manager' } },
    ]);
    expect(parseChallenges('Basic realm="harbor"')[0]!.scheme).toBe('basic');
  });

  it('returns nothing for a missing or empty header', () => {
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
  });
});
