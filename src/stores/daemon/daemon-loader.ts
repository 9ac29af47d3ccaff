import { PassThrough, type Readable } from 'node:stream';

import { InterruptedError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Reference } from '../../core/reference.js';
import type { Descriptor } from '../../core/schemas.js';
import type { OrderedSink, PlannedImage, Store } from '../../core/store.js';
import type { ArchiveAccess } from './archive-access.js';
import type { EngineClient } from './engine-client.js';
import { readText } from './http-exchange.js';
import { parseLoadAnswer } from './load-answer.js';

/**
 * DaemonLoader is one `POST /images/load`: the request opens when the images are known, the
 * archive writer streams the tar into the request body as blobs arrive, and `finish` waits for
 * the daemon's verdict.
 */
export class DaemonLoader {
  private readonly body = new PassThrough();
  private readonly writer: Store & OrderedSink;
  private readonly answer: Promise<string[]>;

  constructor(
    private readonly client: EngineClient,
    archives: ArchiveAccess,
    private readonly logger: Logger,
  ) {
    const display = client.endpoint.display;
    this.writer = archives.createArchiveWriter(this.body, `the load stream to ${display}`);
    this.answer = this.post(display);
    // When the daemon fails early, writing must stop with its reason instead of filling a pipe.
    this.answer.catch((error: unknown) => {
      this.body.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  }

  begin(images: PlannedImage[]): Promise<Descriptor[]> {
    return this.writer.beginImages(images);
  }

  putBlob(repository: string, descriptor: Descriptor, content: Readable): Promise<void> {
    return this.writer.putBlob(repository, descriptor, content);
  }

  putManifest(repository: string, descriptor: Descriptor, bytes: Uint8Array): Promise<void> {
    return this.writer.putManifest(repository, descriptor, bytes);
  }

  tag(reference: Reference, descriptor: Descriptor): Promise<void> {
    return this.writer.tag(reference, descriptor);
  }

  /** finish ends the archive and waits until the daemon has loaded it, or says why not. */
  async finish(): Promise<string[]> {
    await Promise.all([this.endArchive(), this.answer]);
    const loaded = await this.answer;
    this.logger.debug(`the daemon loaded ${loaded.join(', ') || 'nothing it named'}`);
    return loaded;
  }

  /** abort cuts the request short, so the daemon sees a broken archive and loads nothing. */
  async abort(): Promise<void> {
    await this.writer.abort().catch(() => undefined);
    this.body.destroy(new InterruptedError('the load was abandoned'));
    await this.answer.catch(() => undefined);
  }

  private async endArchive(): Promise<void> {
    try {
      await this.writer.close();
    } catch (error) {
      this.body.destroy(error as Error);
      throw error;
    }
    if (!this.body.writableEnded) this.body.end();
  }

  private async post(display: string): Promise<string[]> {
    const what = `loading images into the daemon at ${display}`;
    const response = await this.client.send({
      method: 'POST',
      path: '/images/load',
      query: { quiet: '1' },
      body: this.body,
      headers: { 'content-type': 'application/x-tar' },
      unbounded: true,
      what,
    });
    const text = await readText(response.body).catch((error: unknown) => {
      throw this.client.streamError(error, what);
    });
    return parseLoadAnswer(text, display);
  }
}
