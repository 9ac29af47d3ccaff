import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';

import { afterEach, describe, expect, it } from 'vitest';

import { GzipMembersSink } from '../../src/stores/archive/gzip-members.js';

const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

afterEach(() => {
  process.off('warning', onWarning);
});

describe('GzipMembersSink', () => {
  it('adds no listener per write that waits for drain', async () => {
    process.on('warning', onWarning);
    const written: Buffer[] = [];
    // A slow output makes zlib's buffer fill, so that most writes wait for 'drain'.
    const sink = new GzipMembersSink(async (chunk) => {
      written.push(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    });
    const chunks = Array.from({ length: 40 }, () => randomBytes(256 << 10));
    for (const chunk of chunks) await sink.write(chunk, true);
    await sink.endMember();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
    expect(gunzipSync(Buffer.concat(written)).equals(Buffer.concat(chunks))).toBe(true);
  });
});
