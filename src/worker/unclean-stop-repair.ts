/**
 * The worker's answer to an unclean stop of the runtime (docs/runtime.md#limits): a write redis-server ran just
 * before the runtime died may never have been captured, and its client got no reply, so nothing else would
 * bring it to MySQL. The runtime counts such stops (runtime/unclean-stops.ts); when the count is past the one
 * this library's workers repaired after, the worker runs verify --repair for each writer, which re-captures every
 * hash whose row is missing or stale and deletes the row of every hash that is gone, then records the count it
 * repaired after. Checked every few seconds and at start; a failed repair is retried at the next check.
 */
import type { WriteBehindConfig } from '../shared/config.js';
import { errorMessage } from '../shared/errors.js';
import { RUNTIME_UNCLEAN_STOPS_KEY, uncleanStopsRepairedKey } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { connectRedis, type NodeRedisClient } from '../shared/redis-connect.js';
import { connectReconcileRedis } from '../reconcile/connect-reconcile-redis.js';
import { ReconcileMysql } from '../reconcile/reconcile-mysql.js';
import { verify } from '../reconcile/verify.js';
import { writerTarget } from '../reconcile/writer-target.js';
import { sleep } from './backoff.js';

export interface UncleanStopRepairOptions {
  readonly redisUrl: string;
  readonly mysqlUrl: string;
  readonly config: WriteBehindConfig;
  readonly log: Logger;
  /** @defaultValue 2000 */
  readonly intervalMs?: number;
}

/** A shutdown does not wait out a long verify: what it did not repair is repaired at the next start. */
const STOP_GRACE_MS = 5000;

export class UncleanStopRepair {
  readonly #options: UncleanStopRepairOptions;
  readonly #client: NodeRedisClient;
  readonly #stopping = new AbortController();
  readonly #loop: Promise<void>;

  private constructor(options: UncleanStopRepairOptions, client: NodeRedisClient) {
    this.#options = options;
    this.#client = client;
    this.#loop = this.#run();
  }

  static async start(options: UncleanStopRepairOptions): Promise<UncleanStopRepair> {
    const client = await connectRedis(options.redisUrl, { reconnect: true, onError: () => undefined });
    return new UncleanStopRepair(options, client);
  }

  /** Stops checking; a repair in progress is left to finish its current writer for at most STOP_GRACE_MS. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await Promise.race([this.#loop, sleep(STOP_GRACE_MS)]);
    this.#client.destroy();
  }

  async #run(): Promise<void> {
    const { log, intervalMs = 2000 } = this.#options;
    do {
      try {
        await this.#repairIfBehind();
      } catch (error) {
        if (!this.#stopping.signal.aborted) log.warn({ err: errorMessage(error) }, 'the repair after an unclean runtime stop failed; retried at the next check');
      }
    } while (await sleep(intervalMs, this.#stopping.signal));
  }

  async #repairIfBehind(): Promise<void> {
    const { config, log } = this.#options;
    const repairedKey = uncleanStopsRepairedKey(config.name);
    const [stops, repaired] = (await this.#client.mGet([RUNTIME_UNCLEAN_STOPS_KEY, repairedKey])).map((count) => Number(count ?? 0)) as [number, number];
    if (stops <= repaired) return;
    log.warn({ uncleanStops: stops, repairedAfter: repaired }, 'the runtime stopped uncleanly: re-capturing every hash MySQL disagrees with (verify --repair)');
    const redis = await connectReconcileRedis(this.#options.redisUrl);
    try {
      const mysql = await ReconcileMysql.connect(this.#options.mysqlUrl);
      try {
        for (const writer of config.writers) {
          if (this.#stopping.signal.aborted) return;
          const report = await verify(redis, mysql, { target: writerTarget(config, writer.name, 'the worker config'), repair: true });
          log.info({ writer: writer.name, keys: report.keys, repaired: report.repaired }, 'repaired after an unclean runtime stop');
        }
      } finally {
        await mysql.close();
      }
    } finally {
      await redis.close();
    }
    await this.#client.set(repairedKey, String(stops));
  }
}
