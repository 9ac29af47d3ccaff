import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';

import type { StoreLayout } from '../../src/core/config-schema.js';
import type { Store } from '../../src/core/store.js';
import { openStore } from '../../src/stores/open-store.js';
import { startCeph, type S3Endpoint } from '../peers/index.js';
import {
  freePorts,
  httpAnswers,
  spawnDaemon,
  stopProcessGroup,
  waitUntil,
} from '../peers/processes.js';
import { startSwift } from './swift-peer.js';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtureImages = join(projectRoot, 'fixtures', 'images');

/** An S3 server the tests run against, and a way to make buckets on it. */
export interface S3Peer extends S3Endpoint {
  createBucket(name: string): Promise<void>;
}

/**
 * Which S3 server the tests use: Ceph's RADOS Gateway, or with REGTOOL_TEST_S3=swift (npm run
 * test:swift) OpenStack Swift's S3 layer as a second implementation.
 */
export const s3ServerName =
  process.env.REGTOOL_TEST_S3 === 'swift' ? "Swift's S3 layer" : 'a Ceph RADOS Gateway';

/** startS3 starts (or reuses) the S3 server and puts its keys where the AWS SDK looks. */
export async function startS3(): Promise<S3Peer> {
  const server = process.env.REGTOOL_TEST_S3 === 'swift' ? await startSwift() : await startCeph();
  process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
  process.env.AWS_REGION = server.region;
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_PROFILE;
  return server;
}

/** newBucket creates a bucket with a fresh name. */
export async function newBucket(ceph: S3Peer, stem: string): Promise<string> {
  const name = `${stem}-${randomBytes(4).toString('hex')}`;
  await ceph.createBucket(name);
  return name;
}

/** openS3 opens `s3://bucket/prefix` on the gateway (or a proxy in front of it). */
export function openS3(
  endpoint: string,
  bucket: string,
  prefix: string,
  mode: 'read' | 'write',
  layout?: StoreLayout,
  signal?: AbortSignal,
): Promise<Store> {
  return openStore({ kind: 's3', bucket, prefix }, { mode, layout, signal, s3: { endpoint } });
}

/** The environment a CLI child needs to reach the gateway. */
export function cliEnv(ceph: S3Peer, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: ceph.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ceph.secretAccessKey,
    AWS_REGION: ceph.region,
    AWS_ENDPOINT_URL: ceph.endpoint,
    ...extra,
  };
}

/** A Distribution registry started over a storage section of the test's choosing. */
export interface ServedRegistry {
  host: string;
  stop(): Promise<void>;
}

/**
 * serveRegistry starts the real registry over `storage` (YAML lines under `storage:`). The s3
 * driver of registry 2.8.2 panics at start when AWS_CA_BUNDLE is set, so it is left out.
 */
export async function serveRegistry(storage: string[]): Promise<ServedRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'regtool-served-'));
  const [port] = await freePorts(1);
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    ...storage.map((line) => `  ${line}`),
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), config, { mode: 0o600 });
  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  const logFile = join(dir, 'registry.log');
  const pid = spawnDaemon('docker-registry', ['serve', join(dir, 'config.yml')], { logFile, env });
  const host = `127.0.0.1:${port}`;
  await waitUntil(() => httpAnswers(`http://${host}/v2/`), {
    what: `registry on ${host}`,
    logFile,
    timeoutMs: 15_000,
    pid,
    command: 'docker-registry',
  });
  const stop = async () => {
    await stopProcessGroup(pid, 'docker-registry');
    await rm(dir, { recursive: true, force: true });
  };
  return { host, stop };
}

/** skopeoCopyAll copies every tag of every repository of a registry with skopeo. */
export async function skopeoCopyAll(host: string): Promise<string[]> {
  const catalog = (await (await fetch(`http://${host}/v2/_catalog`)).json()) as {
    repositories: string[];
  };
  const copied: string[] = [];
  const target = await mkdtemp(join(tmpdir(), 'regtool-skopeo-'));
  try {
    await copyEach(host, catalog.repositories, target, copied);
  } finally {
    await rm(target, { recursive: true, force: true });
  }
  return copied.sort();
}

async function copyEach(host: string, repositories: string[], target: string, copied: string[]) {
  for (const repository of repositories) {
    const list = (await (await fetch(`http://${host}/v2/${repository}/tags/list`)).json()) as {
      tags: string[];
    };
    for (const tag of list.tags) {
      const name = `${repository}:${tag}`;
      await execa('skopeo', [
        'copy',
        '--all',
        '--src-tls-verify=false',
        `docker://${host}/${name}`,
        `oci:${target}:${name.replace(/[/:]/g, '-')}`,
      ]);
      copied.push(name);
    }
  }
}

/** A plain HTTP forwarder that counts requests, to measure what a command costs a server. */
export interface CountingProxy {
  endpoint: string;
  count: number;
  /** Each request as `METHOD /path?query`, in the order they came. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * countingProxy forwards every request to `target` unchanged (the Host header too, so SigV4
 * signatures stay valid), counting and recording them.
 */
export async function countingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const proxy: CountingProxy & { server?: Server } = {
    endpoint: '',
    count: 0,
    requests: [],
    close: () => new Promise((resolve) => proxy.server!.close(() => resolve())),
  };
  proxy.server = createServer((incoming, outgoing) => {
    proxy.count += 1;
    proxy.requests.push(`${incoming.method} ${incoming.url}`);
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.server!.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
  return proxy;
}
