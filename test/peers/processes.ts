import { spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { access, readFile, readdir } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * requireCommand throws when `command` is not on PATH, naming the Debian package to install.
 * Tests that need a peer fail with this message instead of a spawn ENOENT.
 */
export async function requireCommand(command: string, debianPackage: string): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  throw new Error(
    `${command} is not installed; install it with: apt-get install -y ${debianPackage}`,
  );
}

/**
 * freePorts asks the kernel for `count` distinct free TCP ports on 127.0.0.1 by binding port 0,
 * holding every socket until all are bound so that the same port cannot come back twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    const ports: number[] = [];
    for (const server of servers) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      ports.push((server.address() as AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(
      servers.filter((s) => s.listening).map((s) => new Promise((resolve) => s.close(resolve))),
    );
  }
}

export interface DaemonOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * spawnDaemon starts `command` in a session of its own (so its whole process group can be
 * stopped later, by whichever process runs the teardown), with stdout and stderr appended to
 * the log file, and returns its pid, which is also its process group id.
 */
export function spawnDaemon(command: string, args: string[], options: DaemonOptions): number {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined) {
      throw new Error(`starting ${command} failed; see ${options.logFile}`);
    }
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** logTail returns the last lines of a log file, or a note that there is none. */
export async function logTail(logFile: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(logFile, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n') || '(log is empty)';
  } catch {
    return `(no log at ${logFile})`;
  }
}

interface ProcStat {
  pid: number;
  state: string;
  pgrp: number;
}

async function readProcStat(pid: string): Promise<ProcStat | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), state: fields[0], pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/**
 * groupMembers lists the live (non-zombie) processes of a process group. Zombies are left out
 * because a daemon started by a test worker that has since exited is reparented to an init that
 * may never reap it.
 */
export async function groupMembers(pgid: number): Promise<number[]> {
  const entries = await readdir('/proc');
  const stats = await Promise.all(entries.filter((e) => /^\d+$/.test(e)).map(readProcStat));
  return stats
    .filter((s): s is ProcStat => s !== undefined && s.pgrp === pgid && s.state !== 'Z')
    .map((s) => s.pid);
}

/** isProcessAlive: the pid exists, is not a zombie and its command line holds `command`. */
export async function isProcessAlive(pid: number, command: string): Promise<boolean> {
  const stat = await readProcStat(String(pid));
  if (stat === undefined || stat.state === 'Z') {
    return false;
  }
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(command);
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
      throw error;
    }
  }
}

/**
 * stopProcessGroup sends SIGTERM to the group led by `pgid` when its leader still runs
 * `command` (a recycled pid is left alone), waits up to `graceMs`, then sends SIGKILL.
 */
export async function stopProcessGroup(pgid: number, command: string, graceMs = 8000) {
  if (!(await isProcessAlive(pgid, command))) {
    return;
  }
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if ((await groupMembers(pgid)).length === 0) {
      return;
    }
    await sleep(50);
  }
  signalGroup(pgid, 'SIGKILL');
}

export interface WaitOptions {
  /** What is being waited for, for the error message, such as "registry on 127.0.0.1:5000". */
  what: string;
  logFile: string;
  timeoutMs: number;
  /** A process that must stay alive meanwhile; its exit ends the wait early. */
  pid?: number;
  command?: string;
}

/**
 * waitUntil polls `check` until it returns true and throws, with the tail of the peer's log,
 * when the time runs out or the watched process exits first.
 */
export async function waitUntil(check: () => Promise<boolean>, options: WaitOptions) {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) {
      return;
    }
    if (options.pid !== undefined && !(await isProcessAlive(options.pid, options.command ?? ''))) {
      throw new Error(
        `${options.what} exited before it was ready; log tail:\n${await logTail(options.logFile)}`,
      );
    }
    if (Date.now() - started > options.timeoutMs) {
      throw new Error(
        `${options.what} was not ready after ${options.timeoutMs} ms; ` +
          `log tail:\n${await logTail(options.logFile)}`,
      );
    }
    await sleep(25);
  }
}

/** httpAnswers: anything at all comes back from `url` (any status counts). */
export async function httpAnswers(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return true;
}
