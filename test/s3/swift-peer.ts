import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';

import { CreateBucketCommand } from '@aws-sdk/client-s3';

import { createS3Client } from '../../src/stores/s3/s3-client.js';
import type { S3Endpoint } from '../peers/index.js';
import { ensurePeer, type PeerRecord, type StartingPeer } from '../peers/peer-dir.js';
import { freePorts, httpAnswers, requireCommand } from '../peers/processes.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'swift.sh');
const SWIFT_PACKAGES =
  'swift-proxy swift-object swift-container swift-account python3-swift (with --no-install-recommends)';

async function startSwiftPeer(peer: StartingPeer): Promise<S3Endpoint> {
  for (const command of ['swift-proxy-server', 'swift-object-server', 'swift-ring-builder']) {
    await requireCommand(command, SWIFT_PACKAGES);
  }
  const [proxy, object, container, account] = await freePorts(4);
  const server: S3Endpoint = {
    endpoint: `http://127.0.0.1:${proxy}`,
    accessKeyId: 'test:tester',
    secretAccessKey: randomBytes(18).toString('base64url'),
    region: 'us-east-1',
  };
  await peer.setStopCommand(['bash', SCRIPT, 'stop', peer.dir]);
  const ports = [proxy, object, container, account].map(String);
  await execa('bash', [SCRIPT, 'start', peer.dir, ...ports], {
    env: { ...process.env, S3_SECRET_KEY: server.secretAccessKey },
    timeout: 120_000,
  });
  return server;
}

/** A running Swift proxy with its S3 layer, and a way to make buckets on it. */
export interface SwiftPeer extends S3Endpoint {
  createBucket(name: string): Promise<void>;
}

/**
 * startSwift returns OpenStack Swift's S3 layer on 127.0.0.1, started on first use (it takes
 * 10 to 30 s) and stopped by the global teardown.
 */
export async function startSwift(): Promise<SwiftPeer> {
  const record = await ensurePeer<S3Endpoint>('swift', {
    isHealthy: (r: PeerRecord<S3Endpoint>) =>
      httpAnswers(`${r.data.endpoint}/healthcheck`).catch(() => false),
    start: startSwiftPeer,
  });
  const server = record.data;
  return {
    ...server,
    // Through the SDK: curl's --user cannot carry an access key with a colon (test:tester).
    createBucket: async (name) => {
      const client = createS3Client({ bucket: name, prefix: '', ...server });
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
  };
}
