import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { execa } from 'execa';

/** One timed run of a command: wall-clock seconds and peak resident memory. */
export interface Sample {
  seconds: number;
  peakRssMb: number;
}

/** A command to time, with what must run before each try (cleanup) outside the timing. */
export interface Timed {
  label: string;
  /** The command, or a function that gives it anew for each try (a fresh target name). */
  command: string[] | (() => string[]);
  env?: Record<string, string>;
  before?: () => Promise<void>;
}

/**
 * timeOnce runs a command under GNU time, which reports the peak RSS of the process tree's
 * largest process; the command's own failure fails the benchmark. Before it starts, what
 * earlier runs wrote is flushed to disk (sync), so that no run pays for another's writes.
 */
export async function timeOnce(work: string, timed: Timed): Promise<Sample> {
  await timed.before?.();
  await execa('sync');
  const report = join(work, 'time.out');
  await rm(report, { force: true });
  const started = process.hrtime.bigint();
  const command = typeof timed.command === 'function' ? timed.command() : timed.command;
  const result = await execa('/usr/bin/time', ['-f', '%M', '-o', report, ...command], {
    env: { NO_COLOR: '1', ...timed.env },
    reject: false,
    stdin: 'ignore',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.exitCode !== 0) {
    throw new Error(
      `${timed.label} failed (exit ${result.exitCode}): ${String(result.stderr).slice(-2000)}`,
    );
  }
  const kilobytes = Number.parseInt(
    (await readFile(report, 'utf8')).trim().split('\n').at(-1)!,
    10,
  );
  return { seconds, peakRssMb: kilobytes / 1024 };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** What a workload measured for each contender, as medians. */
export interface Comparison {
  regtool: { seconds: number; peakRssMb: number };
  anchors: Array<{ label: string; seconds: number; peakRssMb: number }>;
}

/**
 * compare runs regtool and each anchor in alternation, `runs` times each, so that drift in the
 * machine's load falls on all of them alike, and returns medians.
 */
export async function compare(
  work: string,
  runs: number,
  regtool: Timed,
  anchors: Timed[],
): Promise<Comparison> {
  const samples = new Map<string, Sample[]>();
  for (let run = 0; run < runs; run += 1) {
    for (const timed of [regtool, ...anchors]) {
      const sample = await timeOnce(work, timed);
      // Each run, for whoever reads the log to see how much the runs differ.
      console.log(
        `${timed.label}: ${sample.seconds.toFixed(2)} s, ${sample.peakRssMb.toFixed(0)} MB`,
      );
      samples.set(timed.label, [...(samples.get(timed.label) ?? []), sample]);
    }
  }
  const summarize = (label: string) => {
    const list = samples.get(label)!;
    return {
      label,
      seconds: median(list.map((s) => s.seconds)),
      peakRssMb: Math.max(...list.map((s) => s.peakRssMb)),
    };
  };
  return {
    regtool: summarize(regtool.label),
    anchors: anchors.map((anchor) => summarize(anchor.label)),
  };
}

/** medianSeconds times one command several times. */
export async function medianOf(work: string, runs: number, timed: Timed): Promise<Sample> {
  const list: Sample[] = [];
  for (let run = 0; run < runs; run += 1) list.push(await timeOnce(work, timed));
  return {
    seconds: median(list.map((s) => s.seconds)),
    peakRssMb: Math.max(...list.map((s) => s.peakRssMb)),
  };
}
