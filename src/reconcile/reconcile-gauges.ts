/**
 * The last backfill and verify of each writer as gauges on the worker's /metrics, read from `wb:backfill:{w}`
 * and `wb:verify:{w}` every few seconds in the background (a scrape never waits on Redis; a failed read keeps
 * the last values). The worker registers them with one call; nothing else of the worker is involved.
 */
import { Gauge, type Registry } from 'prom-client';
import { writerKeys } from '../shared/keys.js';
import { parseBackfillState, parseVerifyState, verifyDifferences, type BackfillState, type VerifyState } from './reconcile-state.js';

export interface ReconcileGaugesOptions {
  /** HGETALL of a key (the worker's Redis connection). */
  readonly readHash: (key: string) => Promise<Record<string, string>>;
  readonly writers: readonly string[];
  readonly registry: Registry;
  /** @defaultValue 5000 */
  readonly intervalMs?: number;
}

export class ReconcileGauges {
  readonly #options: ReconcileGaugesOptions;
  readonly #backfill = new Map<string, BackfillState>();
  readonly #verify = new Map<string, VerifyState>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> = Promise.resolve();
  #stopped = false;

  private constructor(options: ReconcileGaugesOptions) {
    this.#options = options;
  }

  static start(options: ReconcileGaugesOptions): ReconcileGauges {
    const gauges = new ReconcileGauges(options);
    gauges.#register();
    gauges.#polling = gauges.#poll();
    gauges.#timer = setInterval(() => {
      if (!gauges.#stopped) gauges.#polling = gauges.#polling.then(() => gauges.#poll());
    }, options.intervalMs ?? 5000);
    gauges.#timer.unref();
    return gauges;
  }

  /**
   * Stops polling without waiting for a read in flight: while Redis is down that read waits for a reconnection
   * (the worker's connection reconnects), and a stop must not. Closing the connection ends it (caught in #poll).
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopped = true;
  }

  #register(): void {
    const registers = [this.#options.registry];
    const gauge = <T>(name: string, help: string, states: Map<string, T>, pick: (state: T) => number) => {
      new Gauge({
        name, help, labelNames: ['writer'], registers,
        collect() {
          this.reset();
          for (const [writer, state] of states) this.set({ writer }, pick(state));
        },
      });
    };
    gauge('writebehind_backfill_last_run_timestamp_seconds', 'When the last backfill last made progress (Unix time)', this.#backfill, (s) => s.updatedAt / 1000);
    gauge('writebehind_backfill_keys', 'Keys scanned by the last backfill (across its resumed runs)', this.#backfill, (s) => s.scanned);
    gauge('writebehind_backfill_done', '1 when the last backfill finished, 0 while it runs or after an interrupt', this.#backfill, (s) => (s.state === 'done' ? 1 : 0));
    gauge('writebehind_verify_last_run_timestamp_seconds', 'When the last verify finished (Unix time)', this.#verify, (s) => s.at / 1000);
    gauge('writebehind_verify_keys', 'Hashes compared by the last verify', this.#verify, (s) => s.keys);
    gauge('writebehind_verify_differences', 'Missing, stale and orphan rows the last verify found', this.#verify, verifyDifferences);
  }

  async #poll(): Promise<void> {
    for (const writer of this.#options.writers) {
      if (this.#stopped) return;
      const keys = writerKeys(writer);
      try {
        const backfill = parseBackfillState(await this.#options.readHash(keys.backfill));
        const verify = parseVerifyState(await this.#options.readHash(keys.verify));
        if (backfill !== null) this.#backfill.set(writer, backfill);
        if (verify !== null) this.#verify.set(writer, verify);
      } catch {
        // Redis unreachable: keep the last values; the writer loops report the outage.
      }
    }
  }
}
