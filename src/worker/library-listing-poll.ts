/**
 * The worker's periodic read of its library's listing (`TFUNCTION LIST LIBRARY <name> v` on each node that runs
 * it), shared by the watches that judge it: captures that failed inside Redis (capture-failure-watch.ts) and the
 * deployed config (deployed-config-watch.ts). One read per interval, however many watches look at it.
 *
 * A read that fails (Redis down) is skipped: the writer loops report the outage, and the next read looks again.
 * Stopping does not wait for a read in flight: on a cluster it asks every primary, and a primary that died
 * (before its replica is promoted, or with none) leaves that read waiting for a reconnection, which a stop must
 * not. Closing the connection ends it.
 */
import type { Logger } from '../shared/log.js';
import type { LibraryListing } from './capture-failures.js';

export interface LibraryListingPollOptions {
  /** The library's listing on each node that runs it (one Redis, or every primary of a cluster), asked at each read. */
  readonly listings: () => readonly LibraryListing[];
  readonly library: string;
  readonly log: Logger;
  /** @defaultValue 5000 */
  readonly intervalMs?: number;
}

/** What a watch does with each read: every node's reply, in the order of `listings()`. */
export type ListingConsumer = (replies: readonly unknown[]) => void;

export class LibraryListingPoll {
  readonly #options: LibraryListingPollOptions;
  readonly #consumers: ListingConsumer[] = [];
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: LibraryListingPollOptions) {
    this.#options = options;
  }

  /** Every node's listing, read now. Rejects when a node does not answer. */
  read(): Promise<unknown[]> {
    const { listings, library } = this.#options;
    return Promise.all(listings().map((listing) => listing(library)));
  }

  /** Hands every read from now on to `consumer`. */
  onRead(consumer: ListingConsumer): void {
    this.#consumers.push(consumer);
  }

  /** Reads now, then every `intervalMs`. */
  start(): void {
    this.#polling = this.#poll();
    this.#timer = setInterval(() => {
      if (!this.#stopped) this.#polling = this.#polling.then(() => this.#poll());
    }, this.#options.intervalMs ?? 5000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#stopped = true;
  }

  async #poll(): Promise<void> {
    let replies: unknown[];
    try {
      replies = await this.read();
    } catch (error) {
      this.#options.log.debug({ err: error }, 'reading the library listing failed');
      return;
    }
    if (this.#stopped) return;
    for (const consumer of this.#consumers) consumer(replies);
  }
}
