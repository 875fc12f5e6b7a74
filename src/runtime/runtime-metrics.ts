/**
 * The runtime's own Prometheus metrics (`writebehind runtime --metrics-port`). Captured writes, TF calls and
 * library work run one at a time under the exclusive lock (server/execution-lock.ts), so the lock's held share
 * of time is the share of the runtime's capture capacity in use: `rate(…_hold_seconds_sum[1m])` near 1 means
 * writes queue, and the wait histogram shows for how long (docs/runtime.md, metrics). A setting the runtime keeps
 * on redis-server found changed behind its back (server/settings-check.ts) is counted too: any increase is worth
 * an alert, as writes in between may not have been captured.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HoldMeter } from './server/execution-lock.js';
import { NOTIFY_SETTING, OUTPUT_LIMIT_SETTING } from './server/kept-settings.js';
import type { SettingsMeter } from './server/settings-check.js';

/** Seconds: a captured write holds the lock a few hundred µs; a slow trigger or a queue reaches seconds. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5];

export class RuntimeMetrics implements HoldMeter, SettingsMeter {
  readonly registry = new Registry();
  readonly #hold: Histogram;
  readonly #wait: Histogram;
  readonly #settingsChanged: Counter<'setting'>;

  constructor() {
    const registers = [this.registry];
    this.#hold = new Histogram({
      name: 'writebehind_runtime_exclusive_lock_hold_seconds',
      help: "Each hold of the runtime's exclusive lock (a captured write with its triggers, a TF call, library work); rate of the sum: the share of time it is held",
      buckets: BUCKETS,
      registers,
    });
    this.#wait = new Histogram({
      name: 'writebehind_runtime_exclusive_lock_wait_seconds',
      help: "Time from asking for the runtime's exclusive lock to getting it: queueing behind other captured writes and TF calls",
      buckets: BUCKETS,
      registers,
    });
    this.#settingsChanged = new Counter({
      name: 'writebehind_runtime_server_settings_changed_total',
      help: 'Times the runtime found a setting it keeps on redis-server changed, not through it (notify-keyspace-events: writes to watched keys in between may not have been captured, counted as an unclean stop; client-output-buffer-limit: its pubsub class limited again), and set it back',
      labelNames: ['setting'],
      registers,
    });
    // At 0 from the start: the first change (the one to alert on) is then an increase Prometheus can see.
    for (const setting of [NOTIFY_SETTING, OUTPUT_LIMIT_SETTING]) this.#settingsChanged.inc({ setting }, 0);
  }

  /**
   * The bytes the runtime's clients are owed and have not taken, summed (`owed`, read at each scrape): bounded by
   * back-pressure to about 256 KB a client and its replies in flight (server/client-connection.ts).
   */
  observeOwed(owed: () => number): void {
    new Gauge({
      name: 'writebehind_runtime_client_owed_bytes',
      help: "Bytes of replies the runtime's clients are owed and have not taken (held in the runtime), summed over clients",
      registers: [this.registry],
      collect() {
        this.set(owed());
      },
    });
  }

  settingChanged(setting: string): void {
    this.#settingsChanged.inc({ setting });
  }

  exclusive(waitedMs: number, heldMs: number): void {
    this.#wait.observe(waitedMs / 1000);
    this.#hold.observe(heldMs / 1000);
  }
}
