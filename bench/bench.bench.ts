import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { execa } from 'execa';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { startCeph, startRegistry, type CephPeer, type RegistryPeer } from '../test/peers/index.js';
import { projectRoot } from '../test/helpers/cli.js';
import { freePorts } from '../test/peers/processes.js';
import { countingProxy } from '../test/s3/s3-helpers.js';
import { compare, medianOf, timeOnce, type Timed } from './measure.js';
import {
  comparisonTable,
  formatRatio,
  formatSeconds,
  machineLine,
  table,
  type Row,
} from './report.js';
import {
  busyboxLayer,
  debianLayer,
  pushImage,
  randomLayer,
  writeImage,
  type BuiltLayer,
} from './workloads.js';

const work = process.env.BENCH_DIR ?? '/tmp/regtool-bench';
const cache = join(work, 'cache');
const runs = Number.parseInt(process.env.BENCH_RUNS ?? '3', 10);
const regtool = (...args: string[]) => ['node', join(projectRoot, 'bin/regtool'), '-q', ...args];
const sections: string[] = [];
/** skopeo's (root's) blob-info cache, removed before each skopeo run so both tools start cold. */
const SKOPEO_BLOB_CACHE = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';
const targets: Row[] = [];

let registry: RegistryPeer;
let ceph: CephPeer;
let R: string;
/**
 * A second registry, for loads: loaded into R, whose repositories already hold every layer, an
 * archive saved from R would have its layers mounted rather than uploaded.
 */
let uploads: string;
let apps: string[];
let shared: BuiltLayer;
let uniques: BuiltLayer[];
let debianNote: string | undefined;
let counter = 0;
const fresh = () => `${process.pid}x${(counter += 1)}`;

function s3env(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: ceph.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ceph.secretAccessKey,
    AWS_REGION: ceph.region,
    AWS_DEFAULT_REGION: ceph.region,
    AWS_ENDPOINT_URL: ceph.endpoint,
  };
}

async function newBucket(): Promise<string> {
  const name = `bench-${fresh()}`;
  await ceph.createBucket(name);
  return name;
}

function target(label: string, measured: string, goal: string, met: boolean) {
  targets.push([label, measured, goal, met ? 'met' : '**missed**']);
}

beforeAll(async () => {
  await rm(join(work, 'run'), { recursive: true, force: true });
  await mkdir(cache, { recursive: true });
  await mkdir(join(work, 'run'), { recursive: true });
  registry = await startRegistry({ auth: 'none' });
  ceph = await startCeph();
  R = registry.url;
  const [uploadsPort] = await freePorts(1);
  uploads = (await startRegistry({ auth: 'none', port: uploadsPort })).url;
  shared = await randomLayer(cache, 'shared200', 200);
  uniques = [];
  for (let i = 1; i <= 3; i += 1) uniques.push(await randomLayer(cache, `unique${i}`, 17));
  const big = await randomLayer(cache, 'big1g', 1000);
  const busybox = await busyboxLayer(cache);
  const debian = await debianLayer(cache);
  const layout = join(work, 'run', 'layout');
  apps = [];
  for (let i = 1; i <= 3; i += 1) {
    await writeImage(layout, `bench/app${i}:1`, [shared, uniques[i - 1]!]);
    await pushImage(layout, `docker.io/bench/app${i}:1`, R, `bench/app${i}:1`);
    apps.push(`${R}/bench/app${i}:1`);
  }
  await writeImage(layout, 'bench/big:1g', [big]);
  await pushImage(layout, 'docker.io/bench/big:1g', R, 'bench/big:1g');
  await writeImage(layout, 'bench/busybox:1', [busybox]);
  await pushImage(layout, 'docker.io/bench/busybox:1', R, 'bench/busybox:1');
  if (typeof debian === 'string') {
    debianNote = debian;
  } else {
    await writeImage(layout, 'bench/debian:bookworm', [debian]);
    await pushImage(layout, 'docker.io/bench/debian:bookworm', R, 'bench/debian:bookworm');
  }
}, 3_600_000);

afterAll(async () => {
  const text = [
    '# Benchmarks',
    '',
    'regtool side by side with skopeo, podman and the AWS CLI on the same work, on one machine.',
    'Times are medians of alternating runs; memory is the peak resident set of the largest',
    "process (GNU time). skopeo's blob-info cache is removed before each of its runs, so that",
    'it uploads and downloads what regtool does, and what earlier runs wrote is flushed to disk',
    '(sync) before each run, so that no run pays for the writes of another. Produced by:',
    '',
    '```',
    `BENCH_RUNS=${runs} npm run bench`,
    '```',
    '',
    `Machine: ${await machineLine()}. Measured ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '## Targets',
    '',
    table(['measure', 'measured', 'target', ''], targets),
    '',
    ...sections,
  ].join('\n');
  await writeFile(join(projectRoot, 'BENCHMARKS.md'), `${text}\n`);
});

/**
 * curlUploads uploads blobs into a repository the way a client that does nothing else would:
 * one POST and one monolithic PUT each, streamed from the layer file.
 */
function curlUploads(registry: string, repository: string, layers: BuiltLayer[]): string[] {
  const put = layers.map(
    (layer) =>
      `L=$(curl -sf -X POST -D - -o /dev/null ` +
      `http://${registry}/v2/${repository}/blobs/uploads/ ` +
      `| tr -d '\\r' | sed -n 's/^[Ll]ocation: //p'); ` +
      `case "$L" in /*) L="http://${registry}$L";; esac; ` +
      `curl -sf -X PUT -H 'Content-Type: application/octet-stream' -T ${layer.file} ` +
      `"$L&digest=${layer.digest}" -o /dev/null`,
  );
  return ['sh', '-c', put.join(' && ')];
}

async function uniqueBytes(): Promise<number> {
  return shared.size + uniques.reduce((sum, layer) => sum + layer.size, 0);
}

describe('benchmarks', () => {
  it('W1: registry → archive (three images sharing a 200 MB layer)', async () => {
    const out = join(work, 'run', 'w1');
    await mkdir(out, { recursive: true });
    const home = join(out, 'home');
    const podmanRoot = join(out, 'podman');
    const curlBlobs = [shared, ...uniques]
      .map(
        (layer, i) =>
          `curl -sf -o ${out}/blob${i} http://${R}/v2/bench/app${Math.max(i, 1)}/blobs/${layer.digest}`,
      )
      .join(' && ');
    const result = await compare(
      out,
      runs,
      {
        label: 'regtool save',
        command: regtool('save', '-o', join(out, 'rt.tar'), ...apps),
        env: { REGTOOL_HOME: home },
        before: () => rm(join(out, 'rt.tar'), { force: true }),
      },
      [
        {
          label: 'skopeo copy ×3',
          command: [
            'sh',
            '-c',
            apps
              .map(
                (a, i) =>
                  `skopeo copy -q --src-tls-verify=false docker://${a} docker-archive:${out}/sk${i}.tar:bench/app${i}:1`,
              )
              .join(' && '),
          ],
          before: () =>
            execa('sh', ['-c', `rm -f ${out}/sk*.tar ${SKOPEO_BLOB_CACHE}`]).then(() => undefined),
        },
        {
          label: 'podman pull + save -m',
          command: [
            'sh',
            '-c',
            `P="podman --root ${podmanRoot} --runroot ${podmanRoot}-run --storage-driver vfs"; $P pull -q --tls-verify=false ${apps.join(' ')} >/dev/null && $P save -q -m --format docker-archive -o ${out}/pm.tar ${apps.join(' ')}`,
          ],
          before: () =>
            execa('sh', ['-c', `rm -rf ${podmanRoot} ${podmanRoot}-run ${out}/pm.tar`]).then(
              () => undefined,
            ),
        },
        {
          label: 'curl of the unique blobs',
          command: ['sh', '-c', curlBlobs],
          before: () => execa('sh', ['-c', `rm -f ${out}/blob*`]).then(() => undefined),
        },
      ],
    );
    const skopeo = result.anchors[0]!;
    const curl = result.anchors[2]!;
    sections.push(
      '## W1: registry → archive',
      '',
      `Three images that share a 200 MB layer (${((await uniqueBytes()) / 1e6).toFixed(1)} MB unique), from the Distribution registry into archives. regtool writes one archive; skopeo writes one per image.`,
      '',
      comparisonTable('regtool save', result),
      '',
    );
    target(
      'W1 time vs skopeo',
      formatRatio(result.regtool.seconds / skopeo.seconds),
      '≤ 0.6×',
      result.regtool.seconds / skopeo.seconds <= 0.6,
    );
    target(
      'W1 time vs curl-to-file',
      formatRatio(result.regtool.seconds / curl.seconds),
      '≤ 1.2×',
      result.regtool.seconds / curl.seconds <= 1.2,
    );
  });

  it('W2: archive.tar.gz → registry', async () => {
    const out = join(work, 'run', 'w2');
    await mkdir(out, { recursive: true });
    const home = join(out, 'home');
    for (const file of ['three.tar.gz', 'three.tar']) {
      const [node, ...args] = regtool('save', '-o', join(out, file), ...apps);
      await execa(node!, args, { env: { REGTOOL_HOME: home } });
    }
    const result = await compare(
      out,
      runs,
      {
        label: 'regtool load (.tar.gz)',
        command: () =>
          regtool(
            'load',
            '-i',
            join(out, 'three.tar.gz'),
            '--to',
            `registry://${uploads}/w2r${fresh()}`,
          ),
      },
      [
        {
          label: 'skopeo copy ×3 (.tar)',
          command: () => {
            const prefix = `w2s${fresh()}`;
            return [
              'sh',
              '-c',
              [0, 1, 2]
                .map(
                  (i) =>
                    `skopeo copy -q --dest-tls-verify=false docker-archive:${out}/three.tar:@${i} docker://${uploads}/${prefix}/app${i}:1`,
                )
                .join(' && '),
            ];
          },
          // Without this, skopeo mounts the layers it pushed in an earlier run instead of
          // uploading them, while regtool uploads every run (each to a fresh repository).
          before: () => rm(SKOPEO_BLOB_CACHE, { force: true }),
        },
        {
          label: 'curl upload of the unique blobs',
          command: () => curlUploads(uploads, `w2c${fresh()}`, [shared, ...uniques]),
        },
        {
          label: 'cat + sha256sum of the archive',
          command: ['sh', '-c', `cat ${out}/three.tar.gz | sha256sum >/dev/null`],
        },
      ],
    );
    const skopeo = result.anchors[0]!;
    const curl = result.anchors[1]!;
    sections.push(
      '## W2: archive → registry',
      '',
      "The same three images, from one archive into fresh repositories of a second Distribution registry, which holds none of their layers. skopeo reads only uncompressed docker archives, so it gets the `.tar`; regtool gets the `.tar.gz`. The curl upload is the registry's own limit: each unique blob sent once, in one request, with nothing read, checked or decompressed on the way.",
      '',
      comparisonTable('regtool load', result),
      '',
    );
    target(
      'W2 time vs skopeo',
      formatRatio(result.regtool.seconds / skopeo.seconds),
      '≤ 0.6×',
      result.regtool.seconds / skopeo.seconds <= 0.6,
    );
    target(
      'W2 time vs curl upload',
      formatRatio(result.regtool.seconds / curl.seconds),
      '≤ 1.2×',
      result.regtool.seconds / curl.seconds <= 1.2,
    );
  });

  it('W3: local store → S3, and a re-run with nothing to do', async () => {
    const out = join(work, 'run', 'w3');
    const home = join(out, 'home');
    await mkdir(out, { recursive: true });
    await execa('node', [join(projectRoot, 'bin/regtool'), '-q', 'pull', ...apps], {
      env: { REGTOOL_HOME: home },
    });
    const env = { ...s3env(), REGTOOL_HOME: home };
    let rtBucket = '';
    let awsBucket = '';
    const result = await compare(
      out,
      runs,
      {
        label: 'regtool migrate',
        command: () => regtool('migrate', '--from', 'dir', '--to', `s3://${rtBucket}/oci`),
        env,
        before: async () => void (rtBucket = await newBucket()),
      },
      [
        {
          label: 'aws s3 sync',
          command: () => [
            'aws',
            's3',
            'sync',
            '--quiet',
            '--endpoint-url',
            ceph.endpoint,
            home,
            `s3://${awsBucket}/oci`,
          ],
          env,
          before: async () => void (awsBucket = await newBucket()),
        },
      ],
    );
    const rerun = await medianOf(out, runs, {
      label: 'regtool migrate (nothing to do)',
      command: () => regtool('migrate', '--from', 'dir', '--to', `s3://${rtBucket}/oci`),
      env,
    });
    const awsRerun = await medianOf(out, runs, {
      label: 'aws s3 sync (nothing to do)',
      command: () => [
        'aws',
        's3',
        'sync',
        '--quiet',
        '--endpoint-url',
        ceph.endpoint,
        home,
        `s3://${awsBucket}/oci`,
      ],
      env,
    });
    sections.push(
      '## W3: local store → S3 (Ceph RADOS Gateway)',
      '',
      table(
        ['tool', 'first run', 'nothing to do', 'peak RSS'],
        [
          [
            'regtool migrate --from dir --to s3://…',
            formatSeconds(result.regtool.seconds),
            formatSeconds(rerun.seconds),
            `${result.regtool.peakRssMb.toFixed(0)} MB`,
          ],
          [
            'aws s3 sync of the layout directory',
            formatSeconds(result.anchors[0]!.seconds),
            formatSeconds(awsRerun.seconds),
            `${result.anchors[0]!.peakRssMb.toFixed(0)} MB`,
          ],
        ],
      ),
      '',
    );
  });

  it('W4: peak memory with a 1 GB layer, in every direction', async () => {
    const out = join(work, 'run', 'w4');
    await mkdir(out, { recursive: true });
    const bucket = await newBucket();
    const env = { ...s3env(), REGTOOL_HOME: join(out, 'home') };
    const big = `${R}/bench/big:1g`;
    const steps: Timed[] = [
      {
        label: 'registry → archive (save)',
        command: regtool('save', '-o', join(out, 'big.tar'), big),
        env,
      },
      {
        label: 'archive → registry (load)',
        command: regtool('load', '-i', join(out, 'big.tar'), '--to', `registry://${uploads}/w4`),
        env,
      },
      {
        label: 'archive → dir (load)',
        command: regtool('load', '-i', join(out, 'big.tar'), '--to', `dir:${out}/layout`),
        env,
      },
      {
        label: 'dir → S3 (migrate)',
        command: regtool('migrate', '--from', `dir:${out}/layout`, '--to', `s3://${bucket}/oci`),
        env,
      },
      {
        label: 'S3 → dir (migrate)',
        command: regtool('migrate', '--from', `s3://${bucket}/oci`, '--to', `dir:${out}/back`),
        env,
      },
      { label: 'registry → local store (pull)', command: regtool('pull', big), env },
      {
        label: 'local store → archive.tar.gz (save)',
        command: regtool('save', '-o', join(out, 'big.tar.gz'), big),
        env,
      },
    ];
    const rows: Row[] = [];
    let worst = 0;
    for (const step of steps) {
      const sample = await timeOnce(out, step);
      worst = Math.max(worst, sample.peakRssMb);
      rows.push([step.label, formatSeconds(sample.seconds), `${sample.peakRssMb.toFixed(0)} MB`]);
    }
    sections.push(
      '## W4: one 1 GB layer, every direction',
      '',
      table(['direction', 'time', 'peak RSS'], rows),
      '',
    );
    target('W4 peak memory', `${worst.toFixed(0)} MB`, '≤ 150 MB', worst <= 150);
  });

  it('W5: save -o x.tar.gz against tar | gzip -1', async () => {
    const out = join(work, 'run', 'w5');
    await mkdir(out, { recursive: true });
    const home = join(work, 'run', 'w3', 'home');
    const result = await compare(
      out,
      runs,
      {
        label: 'regtool save -o x.tar.gz',
        command: regtool('save', '-o', join(out, 'x.tar.gz'), ...apps),
        env: { REGTOOL_HOME: home },
      },
      [
        {
          label: 'tar \\| gzip -1',
          command: ['sh', '-c', `tar -cf - -C ${home} . | gzip -1 > ${out}/y.tar.gz`],
        },
      ],
    );
    const bytes = (await stat(join(out, 'x.tar.gz'))).size;
    const mbps = (seconds: number) => bytes / 1e6 / seconds;
    const ratio = result.anchors[0]!.seconds / result.regtool.seconds;
    sections.push(
      '## W5: writing a gzip archive',
      '',
      table(
        ['tool', 'median', 'throughput'],
        [
          [
            'regtool save -o x.tar.gz',
            formatSeconds(result.regtool.seconds),
            `${mbps(result.regtool.seconds).toFixed(0)} MB/s`,
          ],
          [
            'tar \\| gzip -1 of the same store',
            formatSeconds(result.anchors[0]!.seconds),
            `${mbps(result.anchors[0]!.seconds).toFixed(0)} MB/s`,
          ],
        ],
      ),
      '',
    );
    target('W5 throughput vs gzip -1', formatRatio(ratio), '≥ 5×', ratio >= 5);
  });

  it('W6: Debian and busybox, save then load', async () => {
    const out = join(work, 'run', 'w6');
    await mkdir(out, { recursive: true });
    const images = [`${R}/bench/busybox:1`, ...(debianNote ? [] : [`${R}/bench/debian:bookworm`])];
    const save = await medianOf(out, runs, {
      label: 'save',
      command: regtool('save', '-o', join(out, 'os.tar.gz'), ...images),
      env: { REGTOOL_HOME: join(out, 'empty') },
    });
    const load = await medianOf(out, runs, {
      label: 'load',
      command: () =>
        regtool('load', '-i', join(out, 'os.tar.gz'), '--to', `dir:${out}/store-${fresh()}`),
    });
    sections.push(
      '## W6: real images (Debian minbase from debootstrap, busybox-static)',
      '',
      debianNote
        ? `Debian was skipped: ${debianNote}.`
        : `${images.length} images, ${((await stat(join(out, 'os.tar.gz'))).size / 1e6).toFixed(1)} MB archive.`,
      '',
      table(
        ['step', 'median', 'peak RSS'],
        [
          [
            'save from the registry to .tar.gz',
            formatSeconds(save.seconds),
            `${save.peakRssMb.toFixed(0)} MB`,
          ],
          [
            'load into a fresh layout',
            formatSeconds(load.seconds),
            `${load.peakRssMb.toFixed(0)} MB`,
          ],
        ],
      ),
      '',
    );
  });

  it('requests for a copy and a migrate with nothing to do', async () => {
    const proxy = await countingProxy(`http://${R}`);
    try {
      const P = new URL(proxy.endpoint).host;
      const copies = apps.map((a) => a.replace(R, P));
      const copy = (image: string) =>
        execa('node', [
          join(projectRoot, 'bin/regtool'),
          '-q',
          'copy',
          image,
          image.replace('/bench/', '/noop/'),
        ]);
      for (const image of copies) await copy(image);
      proxy.count = 0;
      for (const image of copies) await copy(image);
      const perCopy = proxy.count / copies.length;
      const migrateApps = (from: string, to: string) =>
        execa('node', [
          join(projectRoot, 'bin/regtool'),
          '-q',
          'migrate',
          '--from',
          from,
          '--to',
          to,
          '--include',
          'bench/app*',
        ]);
      // Twice each, counting the second run, which has nothing to do.
      const noopDir = `dir:${join(work, 'run', 'noop-dir')}`;
      await migrateApps(`registry://${P}`, noopDir);
      await migrateApps(noopDir, `registry://${P}/mirror`);
      proxy.count = 0;
      await migrateApps(noopDir, `registry://${P}/mirror`);
      const fromDir = proxy.count;
      await migrateApps(`registry://${P}`, `registry://${P}/mirror2`);
      proxy.count = 0;
      await migrateApps(`registry://${P}`, `registry://${P}/mirror2`);
      const fromRegistry = proxy.count;
      sections.push(
        '## Requests when there is nothing to do',
        '',
        table(
          ['operation', 'requests'],
          [
            [
              'copy of an image already at the destination (one process per image)',
              `${perCopy.toFixed(1)} per image`,
            ],
            [
              `migrate dir → registry of ${apps.length} images already there (one process)`,
              `${fromDir} in all`,
            ],
            [
              `migrate registry → registry of ${apps.length} images already there (one process)`,
              `${fromRegistry} in all`,
            ],
          ],
        ),
        '',
      );
      target(
        'no-op copy',
        `${perCopy.toFixed(1)} requests per image`,
        '≤ 1 per image + a constant',
        perCopy <= 4,
      );
      target(
        'no-op migrate (dir → registry)',
        `${fromDir} requests for ${apps.length} images`,
        '≤ 1 per image + a constant',
        fromDir <= apps.length + 6,
      );
    } finally {
      await proxy.close();
    }
  });
});
