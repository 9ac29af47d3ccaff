/**
 * Text from outside (registries, servers, archives) reaches the terminal with its control
 * characters escaped: escape sequences, bidirectional overrides and zero-width characters show
 * as `\x1b`, `\u202e`, … instead of acting. JSON keeps every value exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { jsonText, terminalText } from '../../src/cli/output.js';
import { runRegtool, tempDir } from '../helpers/cli.js';
import { startFakeRegistry, type FakeRegistry } from '../registry/fake-registry.js';

/** Every character a terminal would obey or hide, each with the escape it shows as. */
const unsafe: Array<[string, string]> = [
  ['\u0000', '\\x00'],
  ['\u0007', '\\x07'],
  ['\r', '\\x0d'],
  ['\u001b', '\\x1b'],
  ['\u007f', '\\x7f'],
  ['\u009b', '\\x9b'],
  ['\u200b', '\\u200b'],
  ['\u200f', '\\u200f'],
  ['\u202a', '\\u202a'],
  ['\u202e', '\\u202e'],
  ['\u2066', '\\u2066'],
  ['\u2069', '\\u2069'],
  ['\ufeff', '\\ufeff'],
];
const anyUnsafe = new RegExp(`[${unsafe.map(([character]) => character).join('')}]`);

describe('terminalText', () => {
  it('escapes controls, bidirectional overrides and zero-width characters', () => {
    for (const [character, escaped] of unsafe) {
      expect(terminalText(`a${character}b`)).toBe(`a${escaped}b`);
    }
  });

  it('keeps newlines, tabs and printable text of any script', () => {
    const text = 'line one\n\tgrüße, 日本語, עברית, 🐳';
    expect(terminalText(text)).toBe(text);
  });
});

describe('jsonText', () => {
  it('writes every unsafe character as \\uXXXX and keeps the values exact', () => {
    const value = { name: unsafe.map(([character]) => character).join('|'), n: 1 };
    const text = jsonText(value);

    expect(text).not.toMatch(anyUnsafe);
    expect(text).toContain('\\u202e');
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('what a registry says, on the command line', () => {
  let fake: FakeRegistry;
  const env = () => ({ HOME: tempDir(), DOCKER_CONFIG: tempDir() });

  beforeAll(async () => {
    fake = await startFakeRegistry();
    fake.quirks.push((request, response) => {
      if (request.url!.startsWith('/v2/team/app/tags/list')) {
        const tags = ['1.0', '2.0\u001b[2J', '\u202egpj.exe'];
        return void response.end(JSON.stringify({ name: 'team/app', tags }));
      }
      if (request.url!.startsWith('/v2/team/secret/tags/list')) {
        const message = 'denied\u001b]0;owned\u0007\u001b[31m red';
        response.writeHead(403, { 'content-type': 'application/json' });
        return void response.end(JSON.stringify({ errors: [{ code: 'DENIED', message }] }));
      }
    });
  });

  afterAll(async () => {
    await fake.close();
  });

  it('escapes control characters in the tags it lists', async () => {
    const result = await runRegtool(['tags', `${fake.host}/team/app`], { env: env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('1.0\n2.0\\x1b[2J\n\\u202egpj.exe');
  });

  it('escapes them in an error message, and keeps them exact in --json', async () => {
    const text = await runRegtool(['tags', `${fake.host}/team/secret`], { env: env() });
    const json = await runRegtool(['--json', 'tags', `${fake.host}/team/secret`], { env: env() });

    expect(text.exitCode).toBe(4);
    expect(text.stderr).toContain('denied\\x1b]0;owned\\x07\\x1b[31m red');
    expect(text.stderr).not.toMatch(anyUnsafe);
    expect(json.stdout).not.toMatch(anyUnsafe);
    expect(JSON.parse(json.stdout).error.message).toContain(
      'denied\u001b]0;owned\u0007\u001b[31m red',
    );
  });
});
