import { execa } from 'execa';

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
