/**
 * What a system program (zstd, xz, bzip2) decompresses streams on through regtool whatever its
 * size: none of it is kept, so nothing caps it and memory stays flat.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { createDecompressor } from '../../src/stores/archive/compression.js';
import { tempDir } from '../helpers/cli.js';

// Past the 100 MB that execa keeps of a program's output by default.
const BYTES = 110 * 1000 * 1000;

describe('zstd past 100 MB', () => {
  it('decompresses all of it as a stream', async () => {
    const path = join(tempDir(), 'big');
    writeFileSync(path, randomBytes(BYTES));
    await execa('zstd', ['-q', '-1', '-T0', '--rm', path]);

    let size = 0;
    await pipeline(createReadStream(`${path}.zst`), createDecompressor('zstd'), async (plain) => {
      for await (const chunk of plain) size += (chunk as Buffer).length;
    });

    expect(size).toBe(BYTES);
  }, 60_000);
});
