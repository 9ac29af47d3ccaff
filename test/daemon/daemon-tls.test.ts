import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';

import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NetworkError, UsageError } from '../../src/core/errors.js';
import { daemonArchives } from '../../src/stores/daemon-archives.js';
import { openDaemonStore } from '../../src/stores/daemon/open-daemon.js';
import { tempDir } from '../helpers/cli.js';
import { startPodmanService, type PodmanPeer } from '../peers/index.js';
import { importImage } from './daemon-helpers.js';

let podman: PodmanPeer;
let scratch: string;
let server: Server;
let port: number;

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await execa('openssl', args, { cwd: dir });
}

/** makeCertificate writes NAME-key.pem and NAME-cert.pem, signed by the CA in `dir`. */
async function makeCertificate(dir: string, name: string, extension: string): Promise<void> {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(dir, 'req', ...key, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`); // prettier-ignore
  await writeFile(join(dir, `${name}.ext`), `${extension}\n`);
  await openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-out', `${name}-cert.pem`, '-extfile', `${name}.ext`); // prettier-ignore
}

/** makeCertificates writes a CA, a server certificate for 127.0.0.1 and a client's. */
async function makeCertificates(dir: string): Promise<void> {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(dir, 'req', '-x509', ...key, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca'); // prettier-ignore
  await makeCertificate(dir, 'server', 'subjectAltName=IP:127.0.0.1');
  await makeCertificate(dir, 'client', 'extendedKeyUsage=clientAuth');
}

/** clientFolder lays out the client's files as DOCKER_CERT_PATH expects them. */
async function clientFolder(dir: string, name: string, files: string[]): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder);
  const sources: Record<string, string> = {
    'ca.pem': 'ca.pem',
    'cert.pem': 'client-cert.pem',
    'key.pem': 'client-key.pem',
  };
  for (const file of files)
    await writeFile(join(folder, file), await readFile(join(dir, sources[file]!)));
  return folder;
}

beforeAll(async () => {
  podman = await startPodmanService();
  scratch = tempDir('regtool-daemon-tls-');
  await makeCertificates(scratch);
  // A TLS front that checks client certificates, before podman's real API, as a daemon
  // started with --tlsverify is.
  server = createServer(
    {
      key: await readFile(join(scratch, 'server-key.pem')),
      cert: await readFile(join(scratch, 'server-cert.pem')),
      ca: await readFile(join(scratch, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      const upstream = connect(podman.socket);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(scratch, { recursive: true, force: true });
});

function openOverTls(certPath: string) {
  return openDaemonStore(daemonArchives({}), {
    mode: 'read',
    env: {
      DOCKER_HOST: `tcp://127.0.0.1:${port}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certPath,
    },
  });
}

describe('the daemon over TCP with TLS', () => {
  it('lists images with the certificates of DOCKER_CERT_PATH', async () => {
    await importImage(podman.socket, 'localhost/daemon-tls/listed:1.0');
    const store = await openOverTls(
      await clientFolder(scratch, 'good', ['ca.pem', 'cert.pem', 'key.pem']),
    );
    const names: string[] = [];
    for await (const entry of store.listImages()) names.push(`${entry.reference}`);
    expect(names).toContain('localhost/daemon-tls/listed:1.0');
    await store.close();
  });

  it('fails as a network error when the daemon refuses the client certificate', async () => {
    const other = join(scratch, 'other');
    await mkdir(other);
    await openssl(other, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=stranger'); // prettier-ignore
    await writeFile(join(other, 'ca.pem'), await readFile(join(scratch, 'ca.pem')));
    const error = await openOverTls(other).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).hint).toContain('DOCKER_CERT_PATH');
  });

  it('names the certificate file it cannot read', async () => {
    const partial = await clientFolder(scratch, 'partial', ['ca.pem', 'cert.pem']);
    const error = await openOverTls(partial).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(join(partial, 'key.pem'));
  });
});
