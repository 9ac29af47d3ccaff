import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';

import { ensurePeer, stopPeer, type PeerRecord, type StartingPeer } from './peer-dir.js';
import { freePorts, httpAnswers, requireCommand, spawnDaemon, waitUntil } from './processes.js';

/** How a test registry checks clients: not at all, Basic auth, or bearer tokens. */
export type RegistryAuth = 'none' | 'htpasswd' | 'token';

export interface RegistryOptions {
  auth?: RegistryAuth;
  /** A fixed port; by default a free one is picked. */
  port?: number;
}

/** Where the token server of a `token` registry is and what its tokens must say. */
export interface TokenAuthInfo {
  realm: string;
  service: string;
  issuer: string;
  /** PEM files of the signing key and its certificate, to sign tokens in tests. */
  keyFile: string;
  certFile: string;
}

export interface RegistryData {
  /** Address as written in image references: `127.0.0.1:PORT`. */
  url: string;
  host: string;
  port: number;
  auth: RegistryAuth;
  username?: string;
  password?: string;
  token?: TokenAuthInfo;
}

/** A running Distribution registry. `stop()` is for tests that need it gone early. */
export interface RegistryPeer extends RegistryData {
  stop(): Promise<void>;
}

const PEERS_DIR = dirname(fileURLToPath(import.meta.url));
const PROJECT_ROOT = join(PEERS_DIR, '..', '..');
const START_TIMEOUT_MS = 15_000;
const TEST_USER = 'regtool-test';

function registryConfig(dir: string, port: number, authSection: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    // Set, so the registry does not warn about making one up at every start.
    `  secret: ${randomBytes(16).toString('hex')}`,
    authSection,
  ].join('\n');
}

async function writeHtpasswd(dir: string, password: string): Promise<string> {
  const file = join(dir, 'htpasswd');
  // -i reads the password from stdin, so it never shows in a command line or an error.
  const { stdout } = await execa('htpasswd', ['-Bin', TEST_USER], { input: password });
  await writeFile(file, `${stdout}\n`, { mode: 0o600 });
  return ['auth:', '  htpasswd:', '    realm: regtool-test', `    path: ${file}`].join('\n');
}

async function makeSigningKey(dir: string): Promise<{ keyFile: string; certFile: string }> {
  await requireCommand('openssl', 'openssl');
  const keyFile = join(dir, 'token-key.pem');
  const certFile = join(dir, 'token-cert.pem');
  // prettier-ignore
  await execa('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=regtool test token issuer',
  ]);
  return { keyFile, certFile };
}

async function startTokenServer(peer: StartingPeer, password: string): Promise<TokenAuthInfo> {
  const { keyFile, certFile } = await makeSigningKey(peer.dir);
  const [port] = await freePorts(1);
  const info: TokenAuthInfo = {
    realm: `http://127.0.0.1:${port}/token`,
    service: 'regtool-test-registry',
    issuer: 'regtool-test-token-server',
    keyFile,
    certFile,
  };
  const configFile = join(peer.dir, 'token-server.json');
  const settings = { ...info, port, username: TEST_USER, password, keyHint: 'x5c' };
  await writeFile(configFile, JSON.stringify(settings), { mode: 0o600 });
  const logFile = join(peer.dir, 'token-server.log');
  const viteNode = join(PROJECT_ROOT, 'node_modules', 'vite-node', 'vite-node.mjs');
  const pid = spawnDaemon(process.execPath, [viteNode, join(PEERS_DIR, 'token-server-main.ts')], {
    logFile,
    cwd: PROJECT_ROOT,
    env: { ...process.env, REGTOOL_TOKEN_SERVER_CONFIG: configFile },
  });
  await peer.track({ pid, command: 'token-server-main' });
  await waitUntil(() => httpAnswers(info.realm), {
    what: `token server on 127.0.0.1:${port}`,
    logFile,
    timeoutMs: START_TIMEOUT_MS,
    pid,
    command: 'token-server-main',
  });
  return info;
}

function tokenSection(info: TokenAuthInfo): string {
  return [
    'auth:',
    '  token:',
    `    realm: ${info.realm}`,
    `    service: ${info.service}`,
    `    issuer: ${info.issuer}`,
    `    rootcertbundle: ${info.certFile}`,
  ].join('\n');
}

async function startRegistryPeer(peer: StartingPeer, auth: RegistryAuth, fixedPort?: number) {
  await requireCommand('docker-registry', 'docker-registry');
  const port = fixedPort ?? (await freePorts(1))[0];
  const data: RegistryData = { url: `127.0.0.1:${port}`, host: '127.0.0.1', port, auth };
  let authSection = '';
  if (auth !== 'none') {
    await requireCommand('htpasswd', 'apache2-utils');
    data.username = TEST_USER;
    data.password = randomBytes(12).toString('base64url');
  }
  if (auth === 'htpasswd') {
    authSection = await writeHtpasswd(peer.dir, data.password!);
  }
  if (auth === 'token') {
    data.token = await startTokenServer(peer, data.password!);
    authSection = tokenSection(data.token);
  }
  const configFile = join(peer.dir, 'config.yml');
  await writeFile(configFile, registryConfig(peer.dir, port, authSection));
  const logFile = join(peer.dir, 'registry.log');
  const pid = spawnDaemon('docker-registry', ['serve', configFile], { logFile });
  await peer.track({ pid, command: 'docker-registry' });
  await waitUntil(() => httpAnswers(`http://${data.url}/v2/`), {
    what: `registry on ${data.url}`,
    logFile,
    timeoutMs: START_TIMEOUT_MS,
    pid,
    command: 'docker-registry',
  });
  return data;
}

async function registryHealthy(record: PeerRecord<RegistryData>): Promise<boolean> {
  const answers = [httpAnswers(`http://${record.data.url}/v2/`)];
  if (record.data.token !== undefined) {
    answers.push(httpAnswers(record.data.token.realm));
  }
  return (await Promise.all(answers)).every(Boolean);
}

/**
 * startRegistry returns a running Distribution registry (Debian's `docker-registry`) on
 * 127.0.0.1, started on first use and shared by every test file of the run: one per auth mode
 * (and per fixed port). With `htpasswd` or `token` auth it has one user, whose name and
 * password come back in the result; with `token` a token server of our own signs the tokens.
 */
export async function startRegistry(options: RegistryOptions = {}): Promise<RegistryPeer> {
  const auth = options.auth ?? 'none';
  const name = options.port === undefined ? `registry-${auth}` : `registry-${auth}-${options.port}`;
  const record = await ensurePeer<RegistryData>(name, {
    isHealthy: (existing) => registryHealthy(existing).catch(() => false),
    start: (peer) => startRegistryPeer(peer, auth, options.port),
  });
  return { ...record.data, stop: () => stopPeer(name) };
}
