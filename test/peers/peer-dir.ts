import { execFile } from 'node:child_process';
import { mkdir, open, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { isProcessAlive, stopProcessGroup } from './processes.js';

/**
 * peerDir is where peers keep their state, shared by every test file of one vitest run:
 * `$REGTOOL_PEER_DIR`, or /tmp/regtool-test-peers. The global setup points the variable at a
 * directory of the run's own inside it, so that two runs at once do not stop each other's peers.
 */
export function peerDir(): string {
  return process.env.REGTOOL_PEER_DIR ?? '/tmp/regtool-test-peers';
}

const RUN_DIR_PREFIX = 'run-';

/** runPeerDir names the directory of the vitest run whose main process is `pid`. */
export function runPeerDir(base: string, pid: number): string {
  return join(base, `${RUN_DIR_PREFIX}${pid}`);
}

/**
 * stopStaleRuns stops the peers of runs in `base` whose vitest process is gone: what a run
 * that was killed before its teardown left behind.
 */
export async function stopStaleRuns(base: string): Promise<void> {
  const entries = await readdir(base).catch(() => []);
  const stale = [];
  for (const entry of entries.filter((e) => e.startsWith(RUN_DIR_PREFIX))) {
    const pid = Number(entry.slice(RUN_DIR_PREFIX.length));
    if (!(await isProcessAlive(pid, 'vitest'))) {
      stale.push(stopAllPeers(join(base, entry)));
    }
  }
  await Promise.all(stale);
}

/** A process started for a peer: the leader of its own process group. */
export interface PeerProcess {
  pid: number;
  /** A word of its command line, checked before it is signalled, in case the pid was reused. */
  command: string;
}

/**
 * PeerRecord is what a started peer leaves in `<peerDir>/<name>/peer.json`, so that another
 * test file can reuse it and the global teardown can stop it.
 */
export interface PeerRecord<T> {
  name: string;
  /** The peer's own directory, `<peerDir>/<name>`, which holds this record as peer.json. */
  dir: string;
  /** Stopped last to first. */
  processes: PeerProcess[];
  /** A command that stops what the processes list cannot (daemons that fork away). */
  stopCommand?: string[];
  data: T;
}

const LOCK_TIMEOUT_MS = 180_000;

function recordPath(dir: string): string {
  return join(dir, 'peer.json');
}

async function lockHolderAlive(lockFile: string): Promise<boolean> {
  const pid = Number(await readFile(lockFile, 'utf8').catch(() => ''));
  return pid > 0 && isProcessAlive(pid, '');
}

/**
 * withPeerLock runs `action` while holding `<peerDir>/<name>.lock`, so that test files running
 * in parallel workers start a peer once. A lock left by a dead process is taken over.
 */
export async function withPeerLock<T>(name: string, action: () => Promise<T>): Promise<T> {
  await mkdir(peerDir(), { recursive: true });
  const lockFile = join(peerDir(), `${name}.lock`);
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    }
    if (!(await lockHolderAlive(lockFile))) {
      await unlink(lockFile).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`waiting for ${lockFile} timed out; remove it if no test run is active`);
    }
    await sleep(50);
  }
  try {
    return await action();
  } finally {
    await unlink(lockFile).catch(() => undefined);
  }
}

/** readPeerRecord returns the record kept in a peer's directory, or undefined. */
export async function readPeerRecord<T>(dir: string): Promise<PeerRecord<T> | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(dir), 'utf8')) as PeerRecord<T>;
  } catch {
    return undefined;
  }
}

/** writePeerRecord saves a record readable by the owner only, as it may hold credentials. */
export async function writePeerRecord<T>(record: PeerRecord<T>): Promise<void> {
  await writeFile(recordPath(record.dir), JSON.stringify(record, null, 2), { mode: 0o600 });
}

/**
 * stopPeerRecord stops a peer: its stop command first, then its process groups, last started
 * first. The record is forgotten only when the stop command succeeded, so a failed stop can be
 * retried by the next run's setup.
 */
export async function stopPeerRecord(record: PeerRecord<unknown>): Promise<void> {
  let stopError: unknown;
  if (record.stopCommand !== undefined) {
    const [command, ...args] = record.stopCommand;
    await promisify(execFile)(command, args, { timeout: 60_000 }).catch((error: unknown) => {
      stopError = error;
    });
  }
  for (const peerProcess of [...record.processes].reverse()) {
    await stopProcessGroup(peerProcess.pid, peerProcess.command);
  }
  if (stopError !== undefined) {
    throw new Error(`stopping peer ${record.name} failed`, { cause: stopError });
  }
  await rm(recordPath(record.dir), { force: true });
}

async function processesAlive(record: PeerRecord<unknown>): Promise<boolean> {
  const alive = await Promise.all(record.processes.map((p) => isProcessAlive(p.pid, p.command)));
  return alive.every(Boolean);
}

/** StartingPeer is handed to a starter: its directory and a way to record what it spawns. */
export interface StartingPeer {
  dir: string;
  /** Records a spawned process at once, so it is stopped even if the start fails halfway. */
  track(peerProcess: PeerProcess): Promise<void>;
  /** Records a command that stops the peer, for daemons that fork away from their group. */
  setStopCommand(command: string[]): Promise<void>;
}

export interface PeerStarter<T> {
  /** Whether a recorded peer still answers. */
  isHealthy(record: PeerRecord<T>): Promise<boolean>;
  /** Starts the peer in its empty directory and returns its data once it answers. */
  start(peer: StartingPeer): Promise<T>;
}

async function startPeer<T>(name: string, starter: PeerStarter<T>): Promise<PeerRecord<T>> {
  const dir = join(peerDir(), name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const partial: PeerRecord<T | undefined> = { name, dir, processes: [], data: undefined };
  const peer: StartingPeer = {
    dir,
    track: async (peerProcess) => {
      partial.processes.push(peerProcess);
      await writePeerRecord(partial);
    },
    setStopCommand: async (command) => {
      partial.stopCommand = command;
      await writePeerRecord(partial);
    },
  };
  try {
    const data = await starter.start(peer);
    const record = { ...partial, data };
    await writePeerRecord(record);
    return record;
  } catch (error) {
    await stopPeerRecord(partial);
    throw error;
  }
}

/**
 * ensurePeer returns the running peer called `name`, starting it first when no healthy one is
 * recorded. A recorded peer that died, stopped answering or never finished starting is stopped
 * and started afresh.
 */
export async function ensurePeer<T>(name: string, starter: PeerStarter<T>) {
  return withPeerLock(name, async () => {
    const existing = await readPeerRecord<T | undefined>(join(peerDir(), name));
    if (existing !== undefined) {
      const complete = existing.data !== undefined && (await processesAlive(existing));
      if (complete && (await starter.isHealthy(existing as PeerRecord<T>))) {
        return existing as PeerRecord<T>;
      }
      await stopPeerRecord(existing);
    }
    return startPeer(name, starter);
  });
}

/** stopPeer stops one peer by name, if it was started. */
export async function stopPeer(name: string): Promise<void> {
  await withPeerLock(name, async () => {
    const record = await readPeerRecord(join(peerDir(), name));
    if (record !== undefined) {
      await stopPeerRecord(record);
    }
  });
}

/**
 * stopAllPeers stops every peer recorded in `dir` (by default the peer directory), in
 * parallel, and removes the directory. The global teardown calls it to stop what the run
 * started. The error of a failed stop names the peers that may still run.
 */
export async function stopAllPeers(dir = peerDir()): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const records = await Promise.all(
    entries.filter((e) => e.isDirectory()).map((e) => readPeerRecord(join(dir, e.name))),
  );
  const results = await Promise.allSettled(
    records
      .filter((r): r is PeerRecord<unknown> => r !== undefined)
      .map((record) => stopPeerRecord(record)),
  );
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason as Error);
  if (failures.length > 0) {
    // The directory stays: it holds the pid files the next attempt needs.
    throw new AggregateError(failures, `stopping peers in ${dir} failed`);
  }
  await rm(dir, { recursive: true, force: true });
}
