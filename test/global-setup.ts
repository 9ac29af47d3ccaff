/**
 * vitest's global setup for the peers of test/peers. Test files start peers on demand, in a
 * directory of this run's own under the peer directory ($REGTOOL_PEER_DIR, which the workers
 * inherit), so that runs at the same time keep apart. Before the run, peers that killed runs
 * left behind are stopped; after it, every peer this run started is stopped (each process group,
 * and Ceph through its stop script).
 */
import { peerDir, runPeerDir, stopAllPeers, stopStaleRuns } from './peers/peer-dir.js';

export async function setup(): Promise<void> {
  const base = peerDir();
  await stopStaleRuns(base);
  process.env.REGTOOL_PEER_DIR = runPeerDir(base, process.pid);
}

export async function teardown(): Promise<void> {
  await stopAllPeers();
}
