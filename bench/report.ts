import { execa } from 'execa';
import type { Comparison } from './measure.js';

/** One row of a results table. */
export type Row = Array<string | number>;

export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(2)} s`;
}

export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

export function table(header: string[], rows: Row[]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/** machineLine says where the numbers were measured. */
export async function machineLine(): Promise<string> {
  const cores = (await execa('nproc')).stdout.trim();
  const memory = (await execa('sh', ['-c', "free -m | awk '/^Mem:/ {print $2}'"])).stdout.trim();
  const skopeo = (await execa('skopeo', ['--version'])).stdout.trim();
  return `${cores} cores, ${memory} MB of memory, Node ${process.versions.node}, ${skopeo}`;
}

/** comparisonTable shows regtool's median beside each anchor's, with the ratio and memory. */
export function comparisonTable(regtoolLabel: string, result: Comparison): string {
  const memory = (megabytes: number) => `${megabytes.toFixed(0)} MB`;
  return table(
    ['tool', 'median', 'regtool / tool', 'peak RSS'],
    [
      [regtoolLabel, formatSeconds(result.regtool.seconds), '', memory(result.regtool.peakRssMb)],
      ...result.anchors.map((anchor) => [
        anchor.label,
        formatSeconds(anchor.seconds),
        formatRatio(result.regtool.seconds / anchor.seconds),
        memory(anchor.peakRssMb),
      ]),
    ],
  );
}
