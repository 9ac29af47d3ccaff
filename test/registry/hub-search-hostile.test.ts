/**
 * `regtool search WORD` against a search API that misbehaves as Docker Hub never does: answers
 * that never end, far more results than asked for, results named after another registry, a
 * server that stalls, and one that asks for credentials.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { runRegtool, tempDir } from '../helpers/cli.js';
import { listen } from './fake-registry.js';

type Answer = (request: IncomingMessage, response: ServerResponse) => void;

let url = '';
let answer: Answer;
/** Bytes of answer body the server got out before the client went away. */
let sent = 0;
const server = createServer((request, response) => answer(request, response));

beforeAll(async () => {
  url = `http://${await listen(server)}/v1/search`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  sent = 0;
});

function search(args: string[], env: Record<string, string> = {}) {
  const home = tempDir();
  return runRegtool(['search', ...args], {
    env: { HOME: home, DOCKER_CONFIG: join(home, 'docker'), REGTOOL_HUB_SEARCH_URL: url, ...env },
  });
}

function json(body: unknown): Answer {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
}

/** endless streams a JSON answer that never ends, 1 MiB at a time, until the client leaves. */
function endless(headers: Record<string, string> = {}): Answer {
  const chunk = Buffer.alloc(1024 * 1024, ' ');
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', ...headers });
    response.write('{"results": [');
    const pump = () => {
      while (!response.destroyed && response.write(chunk)) sent += chunk.length;
    };
    response.on('drain', pump);
    pump();
  };
}

describe('search on a hostile search API', () => {
  it('stops reading an answer larger than 4 MiB', async () => {
    answer = endless();
    const result = await search(['busy']);

    expect(result.exitCode).toBe(7);
    expect(result.stderr).toContain('error[HUB_SEARCH_INVALID]');
    expect(result.stderr).toContain('the answer is larger than 4 MiB');
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses an answer that declares more than 4 MiB before reading it', async () => {
    answer = endless({ 'content-length': String(4 * 1024 ** 3) });
    const result = await search(['busy']);

    expect(result.exitCode).toBe(7);
    expect(result.stderr).toContain('the answer is larger than 4 MiB');
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('shows at most --limit results of 150000 sent', async () => {
    // Enough to overflow the stack if spread into one call, and still under 4 MiB.
    const results = Array.from({ length: 150_000 }, (_, i) => ({ name: `u/r${i}` }));
    answer = json({ results });
    const limited = await search(['repo', '--limit', '3']);
    const byDefault = await search(['--json', 'repo']);

    expect(limited.stderr).toBe('');
    expect(limited.exitCode).toBe(0);
    expect(limited.stdout.split('\n').slice(1)).toEqual([
      'docker.io/u/r0      0',
      'docker.io/u/r1      0',
      'docker.io/u/r2      0',
    ]);
    expect(JSON.parse(byDefault.stdout).matches).toHaveLength(25);
  });

  it('leaves out results named after another registry, with a warning', async () => {
    answer = json({
      results: [
        { name: 'ghcr.io/evil/busybox', description: 'not from Docker Hub' },
        { name: 'localhost/busybox' },
        { name: 'index.docker.io/busybox' },
        { name: 'a/b/c' },
        { name: 'busybox:latest' },
        { name: 'Busybox' },
        { name: 'busybox', is_official: true },
        { name: 'someone/busybox' },
      ],
    });
    const result = await search(['--json', 'busybox']);

    expect(result.exitCode).toBe(0);
    expect(
      JSON.parse(result.stdout).matches.map((m: { repository: string }) => m.repository),
    ).toEqual(['docker.io/library/busybox', 'docker.io/someone/busybox']);
    expect(result.stderr).toContain('left out 6 of 8 results from http://127.0.0.1:');
    expect(result.stderr).toContain(
      'they name no Docker Hub repository (such as "ghcr.io/evil/busybox")',
    );
  });

  it('escapes bidirectional overrides in descriptions, and keeps them exact in JSON', async () => {
    const description = 'safe \u202egpj.exe\u200b \u2066x\u2069';
    answer = json({ results: [{ name: 'someone/tool', description }] });
    const text = await search(['tool']);
    const asJson = await search(['--json', 'tool']);

    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('safe \\u202egpj.exe\\u200b \\u2066x\\u2069');
    expect(text.stdout).not.toMatch(/[\u202e\u200b\u2066\u2069]/);
    expect(asJson.stdout).not.toMatch(/[\u202e\u200b\u2066\u2069]/);
    expect(JSON.parse(asJson.stdout).matches[0].description).toBe(description);
  });

  it('gives up on a server that stalls, after REGTOOL_HUB_SEARCH_TIMEOUT seconds', async () => {
    const started = Date.now();
    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"results": [');
    };
    const midway = await search(['busy'], { REGTOOL_HUB_SEARCH_TIMEOUT: '1' });
    answer = () => {};
    const silent = await search(['busy'], { REGTOOL_HUB_SEARCH_TIMEOUT: '1' });

    for (const result of [midway, silent]) {
      expect(result.exitCode).toBe(7);
      expect(result.stderr).toContain('error[HUB_SEARCH_TIMEOUT]');
      expect(result.stderr).toContain('gave no search result within 1 s');
    }
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('refuses a REGTOOL_HUB_SEARCH_TIMEOUT that is not a number of seconds', async () => {
    const result = await search(['busy'], { REGTOOL_HUB_SEARCH_TIMEOUT: 'soon' });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('error[HUB_SEARCH_TIMEOUT_INVALID]');
  });

  it('says that a search needs no account when the API answers 401', async () => {
    answer = (_request, response) => {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="search"' });
      response.end();
    };
    const result = await search(['busy']);

    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('error[HUB_SEARCH_REFUSED]');
    expect(result.stderr).toContain('Docker Hub searches need no account');
    expect(result.stderr).not.toContain('regtool login');
    expect(result.stderr).not.toContain('--creds');
  });
});
