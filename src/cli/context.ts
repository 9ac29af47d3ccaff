import { InterruptedError } from '../core/errors.js';
import { parseReference, type Reference } from '../core/reference.js';
import { parseStoreAddress, type StoreAddress } from '../core/store-address.js';
import type { Store } from '../core/store.js';
import { openStore, type OpenStoreOptions } from '../stores/open-store.js';
import type { RegistryOptions } from '../stores/registry/client.js';
import { loadConfig } from './config.js';
import type { Output } from './output.js';

/** An image name from the command line: the normalized reference and what was typed. */
export interface ImageArgument {
  reference: Reference;
  asTyped: string;
}

export function parseImageArgument(text: string): ImageArgument {
  return { reference: parseReference(text), asTyped: text };
}

/**
 * Context is what a command gets: the output, an abort signal tied to Ctrl-C, and a way to
 * open stores that are committed when the command succeeds and discarded when it fails.
 */
export class Context {
  readonly output: Output;
  readonly signal: AbortSignal;
  private readonly opened: Store[] = [];
  /** Registry flags (--creds, --insecure, --ca-cert) a command sets before opening stores. */
  registry: RegistryOptions = {};

  constructor(output: Output, signal: AbortSignal) {
    this.output = output;
    this.signal = signal;
  }

  /**
   * open opens a store by address text; `undefined` means the local store. A bare name is
   * looked up in the configuration file; `extra` carries flags such as --layout and --endpoint.
   */
  async open(
    address: string | StoreAddress | undefined,
    mode: OpenStoreOptions['mode'],
    extra: Pick<OpenStoreOptions, 'layout' | 's3'> = {},
  ): Promise<Store> {
    const parsed =
      typeof address === 'string' ? parseStoreAddress(address) : (address ?? { kind: 'dir' });
    const store = await openStore(parsed, {
      mode,
      logger: this.output.logger,
      signal: this.signal,
      registry: this.registry,
      config: parsed.kind === 'named' ? loadConfig() : undefined,
      ...extra,
    });
    this.opened.push(store);
    return store;
  }

  /** finish commits every opened store, in reverse order of opening. */
  async finish(): Promise<void> {
    for (const store of this.opened.splice(0).reverse()) await store.close();
  }

  /** discard aborts every opened store, leaving nothing half-written. */
  async discard(): Promise<void> {
    const stores = this.opened.splice(0).reverse();
    const reason = this.signal.aborted ? 'interrupted' : 'failed';
    await Promise.allSettled(stores.map((store) => store.abort(reason)));
  }

  checkAborted(): void {
    if (this.signal.aborted) throw new InterruptedError();
  }
}
