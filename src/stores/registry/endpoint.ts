import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

import type { Dispatcher } from 'undici';

import { UsageError } from '../../core/errors.js';
import { createProxyAgent } from './proxy.js';

/** Where Docker keeps per-registry CA certificates: `<dir>/<host[:port]>/*.crt`. */
export const DOCKER_CERTS_DIR = '/etc/docker/certs.d';

/** How long opening a connection may take, directly or through a proxy (undici's default). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** registryApiHost is the host that serves the API for a domain: Docker Hub's is not docker.io. */
export function registryApiHost(domain: string): string {
  return domain === 'docker.io' ? 'registry-1.docker.io' : domain;
}

/** isLoopbackHost: localhost, 127.0.0.0/8 or ::1, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return name === 'localhost' || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

/**
 * schemesToTry lists the schemes a registry is tried with, in order: HTTPS always comes first;
 * plain HTTP follows only for loopback hosts (as Docker does) or when --insecure allows it.
 */
export function schemesToTry(host: string, insecure: boolean): Array<'https' | 'http'> {
  return insecure || isLoopbackHost(host) ? ['https', 'http'] : ['https'];
}

export interface TlsSettings {
  /** Extra CA file (--ca-cert), trusted on top of the system CAs. */
  caCert?: string;
  /** Skip certificate checks (--insecure). */
  insecure?: boolean;
  certsDir?: string;
}

/** What a registry host's dispatcher is built from. */
export interface DispatcherSettings extends TlsSettings {
  /** Where HTTP_PROXY, HTTPS_PROXY and NO_PROXY are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
}

async function dockerCertsFor(certsDir: string, host: string): Promise<string[]> {
  const dir = join(certsDir, host);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const crts = names.filter((name) => name.endsWith('.crt')).sort();
  return Promise.all(crts.map((name) => readFile(join(dir, name), 'utf8')));
}

async function readCaCert(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError('CA_CERT_UNREADABLE', `cannot read the CA certificate ${file}`, {
      hint: 'give --ca-cert a readable PEM file',
      cause: error,
    });
  }
}

/**
 * createDispatcher builds the undici dispatcher for one registry host: it honors HTTP_PROXY,
 * HTTPS_PROXY and NO_PROXY, and both the direct and the proxied connections trust the system
 * CAs plus the host's certs.d files and --ca-cert.
 */
export async function createDispatcher(
  host: string,
  settings: DispatcherSettings,
): Promise<Dispatcher> {
  const extra = await dockerCertsFor(settings.certsDir ?? DOCKER_CERTS_DIR, host);
  if (settings.caCert !== undefined) extra.push(await readCaCert(settings.caCert));
  const connect = {
    ...(extra.length > 0 ? { ca: [...rootCertificates, ...extra] } : {}),
    rejectUnauthorized: !settings.insecure,
  };
  return createProxyAgent(
    connect,
    settings.env ?? process.env,
    settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  );
}
