import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { Header } from 'tar';

import { IntegrityError } from '../../core/errors.js';

import type { OutputSink } from './output-sink.js';

const BLOCK = 512;
/** Every entry gets the same time, so the same images give a byte-identical archive. */
const FIXED_TIME = new Date(0);

function header(path: string, type: 'File' | 'Directory', size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  new Header({
    path,
    type,
    size,
    mode: type === 'Directory' ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    mtime: FIXED_TIME,
  }).encode(block, 0);
  return block;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** TarWriter writes a ustar archive entry by entry, streaming each entry's data. */
export class TarWriter {
  constructor(private readonly sink: OutputSink) {}

  async addDirectory(path: string): Promise<void> {
    await this.sink.write(header(`${path}/`, 'Directory', 0), true);
  }

  async addFile(path: string, bytes: Uint8Array): Promise<void> {
    const data = Buffer.from(bytes);
    await this.sink.write(
      Buffer.concat([header(path, 'File', data.length), data, padding(data.length)]),
      true,
    );
  }

  /**
   * addStream writes an entry whose data arrives as a stream of exactly `size` bytes;
   * `compressible` is false for data that is compressed already. The stream is piped, so each
   * chunk goes on as it came: `for await` would join whatever the stream had buffered into one
   * new Buffer per read, a second copy of every byte for the garbage collector to reclaim.
   */
  async addStream(
    path: string,
    size: number,
    content: Readable,
    compressible: boolean,
  ): Promise<void> {
    await this.sink.write(header(path, 'File', size), true);
    let written = 0;
    const entry = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        written += chunk.length;
        if (written > size) {
          callback(this.sizeError(path, size, written));
          return;
        }
        this.sink.write(chunk, compressible).then(() => callback(), callback);
      },
    });
    await pipeline(content, entry);
    if (written !== size) throw this.sizeError(path, size, written);
    await this.sink.write(padding(size), true);
  }

  /** finish writes the two zero blocks that end a tar, and ends the output. */
  async finish(): Promise<void> {
    await this.sink.write(Buffer.alloc(BLOCK * 2), true);
    await this.sink.finish();
  }

  private sizeError(path: string, size: number, written: number): IntegrityError {
    return new IntegrityError(
      'SIZE_MISMATCH',
      `${path} should be ${size} bytes, got ${written}${written > size ? ' or more' : ''}`,
      { hint: 'the source is corrupt or truncated; fetch it again' },
    );
  }
}
