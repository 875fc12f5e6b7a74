/**
 * The batch descriptors one writer loop holds (pending for its consumer in the `workers` group) and how it
 * gets and keeps them: its own pending ones first (resync: after a restart under the same consumer name, or a
 * failure), idle ones of dead consumers (XAUTOCLAIM, at most every claimIntervalMs), new ones (XREADGROUP >),
 * and a heartbeat that keeps live work from looking idle (so nobody reclaims it) and drops what another
 * consumer took.
 *
 * @internal
 */
import { WORKER_GROUP, type StreamKeys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { compareStreamIds } from '../shared/stream-id.js';
import { parseBatchDescriptor, type BatchDescriptor } from './batch-descriptor.js';
import { errorMessage } from '../shared/errors.js';
import { loggableError } from './loggable-error.js';
import type { StreamClient } from './redis/stream-client.js';
import type { StreamEntry } from './redis/stream-entry.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/** Descriptors one loop holds at most before it stops reading new ones (leaving them to other workers). */
const MAX_HELD = 100;

export class BatchClaims {
  readonly #client: StreamClient;
  readonly #keys: StreamKeys;
  readonly #options: ResolvedWorkerOptions;
  readonly #log: Logger;
  /** By id. */
  readonly #held = new Map<string, BatchDescriptor>();
  #lastClaim = 0;
  #readAll = false;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(client: StreamClient, keys: StreamKeys, options: ResolvedWorkerOptions, log: Logger) {
    this.#client = client;
    this.#keys = keys;
    this.#options = options;
    this.#log = log;
  }

  get size(): number {
    return this.#held.size;
  }

  /** Holding so many that new descriptors are left to other workers. */
  get full(): boolean {
    return this.#held.size >= MAX_HELD;
  }

  has(id: string): boolean {
    return this.#held.has(id);
  }

  /** Lets a descriptor go (committed, or taken by another consumer). */
  release(id: string): void {
    this.#held.delete(id);
  }

  /** What is held, in stream order. */
  ordered(): BatchDescriptor[] {
    return [...this.#held.values()].sort((a, b) => compareStreamIds(a.id, b.id));
  }

  /**
   * Takes this consumer's own pending descriptors, creating the group first if it is missing (the library
   * creates it with the batches stream, so that is rare: it costs a command only then).
   */
  async resync(): Promise<void> {
    const own = () => this.#client.readGroup(this.#keys.batches, WORKER_GROUP, this.#options.consumer, '0', 10_000);
    let entries: StreamEntry[];
    try {
      entries = await own();
    } catch (error) {
      if (!/NOGROUP/.test(errorMessage(error))) throw error;
      await this.#client.ensureGroup(this.#keys.batches, WORKER_GROUP);
      entries = await own();
    }
    this.#hold(entries);
  }

  /** The first claimIdle() is due only after claimIntervalMs (not at once). */
  deferClaim(): void {
    this.#lastClaim = Date.now();
  }

  /** Takes descriptors dead consumers left idle past claimMinIdleMs; at most every claimIntervalMs. */
  async claimIdle(): Promise<void> {
    if (Date.now() - this.#lastClaim < this.#options.claimIntervalMs) return;
    this.#lastClaim = Date.now();
    this.#hold(await this.#client.claimIdle(this.#keys.batches, WORKER_GROUP, this.#options.consumer, this.#options.claimMinIdleMs, 100));
  }

  /** Reads new descriptors (blocking up to `blockMs` when given) unless full; returns how many came. */
  async readNew(blockMs?: number): Promise<number> {
    if (this.full) return 0;
    const entries = await this.#client.readGroup(this.#keys.batches, WORKER_GROUP, this.#options.consumer, '>', this.#options.readCount, blockMs);
    this.#hold(entries);
    this.#readAll = entries.length < this.#options.readCount;
    return entries.length;
  }

  /** The last readNew() got fewer than it asked for: it took every new descriptor there was then. */
  get readAll(): boolean {
    return this.#readAll;
  }

  startHeartbeat(): void {
    this.#heartbeat ??= setInterval(() => void this.#beat(), this.#options.claimIntervalMs);
  }

  stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #hold(entries: readonly StreamEntry[]): void {
    for (const entry of entries) {
      if (entry.fields.length === 0) continue; // deleted while pending: already committed
      const descriptor = parseBatchDescriptor(entry);
      if ('error' in descriptor) {
        this.#log.error({ descriptorId: entry.id }, `${descriptor.error}; left pending`);
        continue;
      }
      this.#held.set(descriptor.id, descriptor);
    }
  }

  async #beat(): Promise<void> {
    if (this.#held.size === 0) return;
    try {
      const mine = new Set(await this.#client.pendingOf(this.#keys.batches, WORKER_GROUP, this.#options.consumer, this.#held.size + 100));
      const ids = [...this.#held.keys()];
      for (const id of ids) if (!mine.has(id)) this.#held.delete(id);
      await this.#client.touch(this.#keys.batches, WORKER_GROUP, this.#options.consumer, ids.filter((id) => mine.has(id)));
    } catch (error) {
      this.#log.debug({ error: loggableError(error) }, 'heartbeat failed');
    }
  }
}
