import { Readable } from 'node:stream';

/** ChunkReader takes fixed-size pieces off a stream, and hands over the rest as a stream. */
export class ChunkReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  /** True once the stream has ended and everything is in `pending` or was read. */
  ended = false;

  constructor(stream: Readable) {
    this.iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** read returns the next `size` bytes, or fewer at the end of the stream. */
  async read(size: number): Promise<Buffer> {
    const parts = [this.pending];
    let length = this.pending.length;
    while (length < size && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      parts.push(next.value);
      length += next.value.length;
    }
    const all = Buffer.concat(parts, length);
    this.pending = all.subarray(size);
    return all.subarray(0, size);
  }

  /** exhausted: nothing is left to read. */
  get exhausted(): boolean {
    return this.ended && this.pending.length === 0;
  }

  /** rest streams `head` followed by whatever the reader has not handed out yet. */
  rest(head: Buffer): Readable {
    const reader = this;
    return Readable.from(
      (async function* () {
        yield head;
        if (reader.pending.length > 0) yield reader.pending;
        reader.pending = Buffer.alloc(0);
        for (;;) {
          const next = await reader.iterator.next();
          if (next.done) return;
          yield next.value;
        }
      })(),
      { objectMode: false },
    );
  }
}
