/**
 * `regtool search WORD` against a local server speaking Docker Hub's v1 search API, reached
 * through REGTOOL_HUB_SEARCH_URL; and `search WORD --from registry://…`, which reads a catalog
 * and never asks the search API.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { execa } from 'execa';

import { projectRoot, runRegtool, tempDir } from '../helpers/cli.js';
import { listen, startFakeRegistry, type FakeRegistry } from './fake-registry.js';

/** What the v1 search API answers for "busy", in the shape Docker Hub gives it. */
const busyResults = [
  {
    name: 'busybox',
    description: 'Busybox base image.',
    star_count: 3300,
    is_official: true,
    is_automated: false,
  },
  {
    name: 'someone/busy-tools',
    description: 'tools\nfor \u001b[31mbusy\u001b[0m people',
    star_count: 7,
    is_official: false,
    is_automated: true,
  },
];

interface HubSearchApi {
  url: string;
  /** Every request seen, as its path and query (absolute when it came through as a proxy). */
  requests: URL[];
  /** How the next requests are answered: a status, and a body for 200. */
  answer: { status: number; body?: unknown };
  close(): Promise<void>;
}

/** startHubSearchApi answers GET /v1/search?q=WORD&n=N as the Docker Hub index does. */
async function startHubSearchApi(): Promise<HubSearchApi> {
  const api: HubSearchApi = {
    url: '',
    requests: [],
    answer: { status: 200 },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url!, 'http://hub-search-api');
    api.requests.push(url);
    if (url.pathname !== '/v1/search') return void response.writeHead(404).end();
    if (api.answer.status !== 200) {
      response.writeHead(api.answer.status, { 'retry-after': '0' });
      return void response.end('{"message":"search is down"}');
    }
    const query = url.searchParams.get('q') ?? '';
    const body = api.answer.body ?? {
      num_results: busyResults.length,
      query,
      results: busyResults.slice(0, Number(url.searchParams.get('n'))),
    };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  api.url = `http://${await listen(server)}/v1/search`;
  return api;
}

/** A home of its own for each run: local store and Docker config. */
function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = tempDir();
  return {
    REGTOOL_HOME: join(home, 'regtool'),
    DOCKER_CONFIG: join(home, 'docker'),
    HOME: home,
    ...extra,
  };
}

let hubSearchApi: HubSearchApi;

beforeAll(async () => {
  hubSearchApi = await startHubSearchApi();
});

afterAll(async () => {
  await hubSearchApi.close();
});

beforeEach(() => {
  hubSearchApi.requests.length = 0;
  hubSearchApi.answer = { status: 200 };
});

describe('search on Docker Hub (the v1 search API)', () => {
  const env = () => isolatedEnv({ REGTOOL_HUB_SEARCH_URL: hubSearchApi.url });

  it('sends the word and the default limit of 25, and prints a table', async () => {
    const result = await runRegtool(['search', 'busy'], { env: env() });

    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(hubSearchApi.requests).toHaveLength(1);
    const sent = hubSearchApi.requests[0]!;
    expect(sent.pathname).toBe('/v1/search');
    expect(Object.fromEntries(sent.searchParams)).toEqual({ q: 'busy', n: '25' });
    expect(result.stdout.split('\n')).toEqual([
      'NAME                          STARS  OFFICIAL  DESCRIPTION',
      'docker.io/library/busybox      3300  [OK]      Busybox base image.',
      'docker.io/someone/busy-tools      7            tools for \\x1b[31mbusy\\x1b[0m people',
    ]);
  });

  it('gives the matches as JSON, asking for --limit results', async () => {
    const result = await runRegtool(['--json', 'search', 'busy box', '--limit', '1'], {
      env: env(),
    });

    expect(result.exitCode).toBe(0);
    expect(hubSearchApi.requests[0]!.search).toBe('?q=busy+box&n=1');
    expect(JSON.parse(result.stdout)).toEqual({
      matches: [
        {
          repository: 'docker.io/library/busybox',
          description: 'Busybox base image.',
          stars: 3300,
          official: true,
        },
      ],
    });
  });

  it('says so when nothing matches', async () => {
    hubSearchApi.answer = { status: 200, body: { num_results: 0, query: 'zzz', results: [] } };
    const result = await runRegtool(['search', 'zzz'], { env: env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('no repository on Docker Hub matches "zzz"');
  });

  it('refuses a limit outside 1 to 100 before asking anything', async () => {
    const zero = await runRegtool(['search', 'busy', '--limit', '0'], { env: env() });
    const many = await runRegtool(['search', 'busy', '--limit', '101'], { env: env() });

    expect(zero.exitCode).toBe(2);
    expect(many.exitCode).toBe(2);
    expect(many.stderr).toContain('Docker Hub gives 1 to 100 search results, not 101');
    expect(hubSearchApi.requests).toHaveLength(0);
  });

  it('exits quietly when the reader of its output stops early (| head -1)', async () => {
    // Some 200 KB of table and more of JSON: more than a pipe holds, so writes meet EPIPE.
    const description = 'x'.repeat(2000);
    const results = Array.from({ length: 100 }, (_, i) => ({ name: `u/r${i}`, description }));
    hubSearchApi.answer = { status: 200, body: { results } };
    const script = 'node bin/regtool "$@" | head -1; echo "status ${PIPESTATUS[0]}" >&2';
    const piped = (args: string[]) =>
      execa('bash', ['-c', script, 'bash', ...args], {
        cwd: projectRoot,
        env: env(),
        reject: false,
      });

    const table = await piped(['search', 'r', '--limit', '100']);
    const asJson = await piped(['--json', 'search', 'r', '--limit', '100']);

    expect(table.stdout).toMatch(/^NAME +STARS +OFFICIAL/);
    expect(table.stderr).toBe('status 0');
    expect(asJson.stdout).toBe('{');
    expect(asJson.stderr).toBe('status 0');
  });

  it('retries a 5xx answer, then exits 7', async () => {
    hubSearchApi.answer = { status: 503 };
    const result = await runRegtool(['--json', 'search', 'busy'], { env: env() });

    expect(result.exitCode).toBe(7);
    expect(hubSearchApi.requests).toHaveLength(5);
    expect(JSON.parse(result.stdout).error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(result.stderr).toContain('answered 503 for the search for "busy"');
  });

  it('exits 7 for an answer that is not a search result', async () => {
    hubSearchApi.answer = { status: 200, body: { repositories: ['busybox'] } };
    const result = await runRegtool(['search', 'busy'], { env: env() });

    expect(result.exitCode).toBe(7);
    expect(result.stderr).toContain('error[HUB_SEARCH_INVALID]');
  });

  it('exits 7 when the search endpoint is not a search API', async () => {
    const wrong = hubSearchApi.url.replace('/v1/search', '/v2/');
    const result = await runRegtool(['search', 'busy'], {
      env: isolatedEnv({ REGTOOL_HUB_SEARCH_URL: wrong }),
    });

    expect(result.exitCode).toBe(7);
    expect(result.stderr).toContain('error[HUB_SEARCH_NO_API]');
  });

  it('exits 7 with a clear message when the host cannot be reached', async () => {
    const result = await runRegtool(['search', 'busy'], {
      env: isolatedEnv({ REGTOOL_HUB_SEARCH_URL: 'http://127.0.0.1:9/v1/search' }),
    });

    expect(result.exitCode).toBe(7);
    expect(result.stderr).toContain(
      'cannot reach the registry 127.0.0.1:9 at http://127.0.0.1:9/v1/search (ECONNREFUSED)',
    );
  });

  it('refuses a REGTOOL_HUB_SEARCH_URL that is not an http(s) URL', async () => {
    const result = await runRegtool(['search', 'busy'], {
      env: isolatedEnv({ REGTOOL_HUB_SEARCH_URL: 'index.docker.io/v1/search' }),
    });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('error[HUB_SEARCH_URL_INVALID]');
  });

  it('goes through HTTP_PROXY, and straight to hosts NO_PROXY names', async () => {
    // The proxy tunnels every CONNECT to the search API, whatever host was asked for.
    const tunnels: string[] = [];
    const proxyServer = createServer();
    proxyServer.on('connect', (request, socket) => {
      tunnels.push(request.url!);
      const api = new URL(hubSearchApi.url);
      const upstream = connect(Number(api.port), api.hostname, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    const proxy = `http://${await listen(proxyServer)}`;
    const target = 'http://hub-search.invalid/v1/search';

    try {
      const proxied = await runRegtool(['search', 'busy'], {
        env: isolatedEnv({ REGTOOL_HUB_SEARCH_URL: target, HTTP_PROXY: proxy }),
      });
      expect(proxied.exitCode).toBe(0);
      expect(tunnels).toEqual(['hub-search.invalid:80']);
      expect(hubSearchApi.requests.map((url) => url.search)).toEqual(['?q=busy&n=25']);

      const direct = await runRegtool(['search', 'busy'], {
        env: isolatedEnv({
          REGTOOL_HUB_SEARCH_URL: target,
          HTTP_PROXY: proxy,
          NO_PROXY: 'hub-search.invalid',
        }),
      });
      expect(direct.exitCode).toBe(7);
      expect(direct.stderr).toContain('cannot reach the registry hub-search.invalid');
      expect(tunnels).toHaveLength(1);
    } finally {
      proxyServer.close();
    }
  });
});

describe('search --from registry:// (the catalog)', () => {
  let fake: FakeRegistry;

  beforeAll(async () => {
    fake = await startFakeRegistry();
    const tags: Record<string, string[]> = {
      'team/busybox': ['1.36', 'latest'],
      'team/tools': ['busy-1', '2.0'],
      'team/other': ['1.0'],
    };
    fake.quirks.push((request, response) => {
      const url = new URL(request.url!, 'http://fake');
      if (url.pathname === '/v2/_catalog') {
        return void response.end(JSON.stringify({ repositories: Object.keys(tags) }));
      }
      const listed = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
      if (listed)
        return void response.end(JSON.stringify({ name: listed[1], tags: tags[listed[1]!] }));
    });
  });

  afterAll(async () => {
    await fake.close();
  });

  it('finds repositories and tags containing the word, without the search API', async () => {
    const env = isolatedEnv({ REGTOOL_HUB_SEARCH_URL: hubSearchApi.url });
    const args = ['search', 'BUSY', '--from', `registry://${fake.host}`];
    const json = await runRegtool(['--json', ...args], { env });
    const text = await runRegtool(args, { env });
    const limited = await runRegtool(['--json', ...args, '--limit', '1'], { env });

    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      matches: [
        { repository: `${fake.host}/team/busybox`, tags: ['1.36', 'latest'] },
        { repository: `${fake.host}/team/tools`, tags: ['busy-1'] },
      ],
    });
    expect(text.stdout).toBe(
      `${fake.host}/team/busybox  1.36 latest\n${fake.host}/team/tools  busy-1`,
    );
    expect(JSON.parse(limited.stdout).matches).toHaveLength(1);
    expect(hubSearchApi.requests).toHaveLength(0);
  });
});
