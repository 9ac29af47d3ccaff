import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';

import { ensurePeer, stopPeer, type PeerRecord, type StartingPeer } from './peer-dir.js';
import { freePorts, httpAnswers, logTail, requireCommand } from './processes.js';
import { s3Request, type S3Endpoint } from './s3-curl.js';

/** A running Ceph RADOS Gateway: S3 with path-style buckets. */
export interface CephPeer extends S3Endpoint {
  /** Creates a bucket (at least 3 characters); one that exists already is fine. */
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

const PEER_NAME = 'ceph';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'ceph.sh');
const START_TIMEOUT_MS = 90_000;
const CEPH_PACKAGES = '--no-install-recommends radosgw ceph-mon ceph-osd';

async function requireCeph(): Promise<void> {
  for (const command of ['radosgw', 'radosgw-admin', 'ceph-mon', 'ceph-osd', 'monmaptool']) {
    await requireCommand(command, CEPH_PACKAGES);
  }
}

async function startCephPeer(peer: StartingPeer): Promise<S3Endpoint> {
  await requireCeph();
  const [rgwPort, monPort] = await freePorts(2);
  const server: S3Endpoint = {
    endpoint: `http://127.0.0.1:${rgwPort}`,
    accessKeyId: randomBytes(10).toString('hex').toUpperCase(),
    secretAccessKey: randomBytes(30).toString('base64'),
    region: 'us-east-1',
  };
  await peer.setStopCommand(['bash', SCRIPT, 'stop', peer.dir]);
  const setupLog = join(peer.dir, 'log', 'setup.log');
  try {
    await execa('bash', [SCRIPT, 'start', peer.dir, String(rgwPort), String(monPort)], {
      env: { S3_ACCESS_KEY: server.accessKeyId, S3_SECRET_KEY: server.secretAccessKey },
      timeout: START_TIMEOUT_MS,
    });
  } catch (error) {
    // The keys travel in the environment, so execa's message (command, stderr) holds none.
    throw new Error(
      `starting Ceph in ${peer.dir} failed: ${(error as Error).message}\n` +
        `daemon log tail:\n${await logTail(setupLog)}`,
    );
  }
  return server;
}

async function createBucket(server: S3Endpoint, name: string): Promise<void> {
  const response = await s3Request(server, 'PUT', `/${name}`);
  const ownedAlready = response.status === 409 && response.body.includes('BucketAlreadyOwnedByYou');
  if (response.status !== 200 && !ownedAlready) {
    throw new Error(
      `creating bucket ${name} at ${server.endpoint} answered ${response.status}: ${response.body}`,
    );
  }
}

async function cephHealthy(record: PeerRecord<S3Endpoint>): Promise<boolean> {
  return httpAnswers(`${record.data.endpoint}/`).catch(() => false);
}

/**
 * startCeph returns a one-node Ceph cluster's RADOS Gateway on 127.0.0.1, started on first use
 * (a few seconds) and shared by every test file of the run. Objects live in the OSD's memory.
 * Throws, naming the packages to install, when radosgw or the Ceph daemons are missing.
 */
export async function startCeph(): Promise<CephPeer> {
  const record = await ensurePeer<S3Endpoint>(PEER_NAME, {
    isHealthy: cephHealthy,
    start: startCephPeer,
  });
  const server = record.data;
  return {
    ...server,
    createBucket: (name) => createBucket(server, name),
    stop: () => stopPeer(PEER_NAME),
  };
}
