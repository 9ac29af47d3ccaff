import { createHash } from 'node:crypto';
import { Transform, type Duplex, type TransformCallback } from 'node:stream';

import { IntegrityError } from '../../core/errors.js';
import { createDecompressor, type StreamCompression } from './compression.js';

/**
 * DiffIdCheck passes a compressed layer through unchanged while decompressing a copy of it,
 * and fails the stream at its end when the uncompressed bytes do not have the diff_id the
 * image config gives the layer (or inflate past the size bound).
 */
export class DiffIdCheck extends Transform {
  private readonly hash = createHash('sha256');
  private readonly decompressor: Duplex;
  private failure?: Error;
  private inflated = 0;
  private readonly ended: Promise<void>;

  constructor(
    private readonly diffId: string,
    compression: StreamCompression,
    private readonly what: string,
    private readonly limit: number,
  ) {
    super();
    this.decompressor = createDecompressor(compression);
    this.decompressor.on('data', (chunk: Buffer) => {
      this.inflated += chunk.length;
      if (this.inflated > this.limit) this.fail(this.tooLarge());
      else this.hash.update(chunk);
    });
    this.ended = new Promise((resolve) => {
      this.decompressor.on('end', resolve);
      this.decompressor.on('close', resolve);
      this.decompressor.on('error', (error) => {
        this.fail(this.corrupt(error));
        resolve();
      });
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    if (this.failure) {
      callback(this.failure);
      return;
    }
    this.push(chunk);
    if (this.decompressor.write(chunk)) {
      callback();
      return;
    }
    // A decompressor destroyed after a failure never drains: its close must go on too.
    const proceed = () => {
      this.decompressor.off('drain', proceed);
      this.decompressor.off('close', proceed);
      callback(this.failure);
    };
    this.decompressor.on('drain', proceed);
    this.decompressor.on('close', proceed);
  }

  override _flush(callback: TransformCallback) {
    this.decompressor.end();
    this.ended.then(() => {
      if (this.failure) {
        callback(this.failure);
        return;
      }
      const actual = `sha256:${this.hash.digest('hex')}`;
      if (actual !== this.diffId) {
        callback(
          new IntegrityError(
            'DIFF_ID_MISMATCH',
            `${this.what} decompresses to ${actual}, but its config says ${this.diffId}`,
            { hint: 'the layer or its config is corrupt; get the image again from its source' },
          ),
        );
        return;
      }
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void) {
    this.decompressor.destroy();
    callback(error);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.decompressor.destroy();
  }

  private corrupt(cause: Error): IntegrityError {
    return new IntegrityError('LAYER_CORRUPT', `${this.what} does not decompress`, {
      cause,
      hint: 'the layer is damaged; get the image again from its source',
    });
  }

  private tooLarge(): IntegrityError {
    return new IntegrityError(
      'ARCHIVE_TOO_LARGE',
      `${this.what} decompresses to more than ${this.limit} bytes`,
      {
        hint:
          'the layer may be a decompression bomb; if it is genuine, raise ' +
          'REGTOOL_MAX_UNCOMPRESSED (bytes)',
      },
    );
  }
}
