/**
 * The worker's answer to an unclean stop of the runtime (docs/runtime.md#limits): a write redis-server ran just
 * before the runtime died may never have been captured, and its client got no reply, so nothing else would
 * bring it to MySQL. The runtime counts such stops (runtime/unclean-stops.ts); when a count is past the one
 * this library's workers repaired after, the worker runs verify --repair for each writer, which re-captures every
 * hash whose row is missing or stale and deletes the row of every hash that is gone, then records the counts it
 * repaired after. Checked every few seconds and at start; a failed repair is retried, less and less often.
 *
 * On one Redis there is one count (RUNTIME_UNCLEAN_STOPS_KEY). On a Redis Cluster each primary's runtime keeps
 * its own, under its node's id and its store's tag (runtimeUncleanStopsKeyOfNode), and the worker records what it
 * repaired after per count key (uncleanStopsRepairedOfNodesKey). At every check it GETs the count keys it knows
 * and, for each primary, the name the count has when the store is where a runtime puts it first (the tag of the
 * node's lowest slot, from the topology the cluster client holds): one GET per primary. What the store's tag
 * hides from that guess (a store that moved with resharding, or adopted at a failover) a SCAN of every primary
 * finds, at start and every `scanIntervalMs` (a full pass over each node's keys: ~1 µs of redis-server time a
 * key, so rarely). A runtime creates its count at its first mark, so the worker knows it long before that
 * node's first unclean stop. Several workers may repair after the same stop: verify --repair is idempotent, and
 * a record one of them writes late only causes one more repair.
 *
 * A count at or below the record is no stop, even when it went down: a count that went away (evicted, expired,
 * deleted) while its runtime runs is set back by the runtime's store guard within a look (runtime/unclean-stops.ts,
 * library-host/store-guard.ts), and repairing at every such dip would repair for nothing; a count lost while no
 * runtime runs restarts behind the record, and the stops it then counts go unrepaired until it passes the record
 * (docs/runtime.md, the library store: not covered).
 */
import type { WriteBehindConfig } from '../shared/config.js';
import { errorMessage } from '../shared/errors.js';
import { RUNTIME_UNCLEAN_STOPS_KEY, RUNTIME_UNCLEAN_STOPS_OF_NODES_PATTERN, runtimeUncleanStopsKeyOfNode, uncleanStopsRepairedKey, uncleanStopsRepairedOfNodesKey } from '../shared/keys.js';
import { slotTag } from '../shared/key-slot.js';
import type { Logger } from '../shared/log.js';
import { connectRedis, type NodeRedisClient } from '../shared/redis-connect.js';
import { connectReconcileRedis } from '../reconcile/connect-reconcile-redis.js';
import { ReconcileMysql } from '../reconcile/reconcile-mysql.js';
import { KILLED_HINT } from '../reconcile/recapture-splitting.js';
import { verify } from '../reconcile/verify.js';
import { writerTarget } from '../reconcile/writer-target.js';
import { sleep } from './backoff.js';
import { ClusterStreamClient } from './redis/cluster-stream-client.js';

export interface UncleanStopRepairOptions {
  readonly redisUrl: string;
  readonly mysqlUrl: string;
  readonly config: WriteBehindConfig;
  readonly log: Logger;
  /** The Redis is a cluster: a count per primary. @defaultValue false */
  readonly cluster?: boolean;
  /** @defaultValue 2000 */
  readonly intervalMs?: number;
  /** On a cluster, how often every primary is scanned for count keys. @defaultValue 300000 */
  readonly scanIntervalMs?: number;
}

/** A shutdown does not wait out a long verify: what it did not repair is repaired at the next start. */
const STOP_GRACE_MS = 5000;
/** After a failed check or repair, the next waits twice as long as the last, up to this. */
const MAX_RETRY_MS = 60_000;

/** The counts a repair is behind, for the log, and how to record, once it is done, that they are repaired. */
interface Behind {
  readonly context: Record<string, unknown>;
  record(): Promise<void>;
}

interface StopCounts {
  /** Null when every count is repaired after. */
  behind(): Promise<Behind | null>;
  close(): void;
}

export class UncleanStopRepair {
  readonly #options: UncleanStopRepairOptions;
  readonly #counts: StopCounts;
  readonly #stopping = new AbortController();
  readonly #loop: Promise<void>;

  private constructor(options: UncleanStopRepairOptions, counts: StopCounts) {
    this.#options = options;
    this.#counts = counts;
    this.#loop = this.#run();
  }

  static async start(options: UncleanStopRepairOptions): Promise<UncleanStopRepair> {
    const counts = options.cluster === true
      ? new ClusterStopCounts(await ClusterStreamClient.connectCluster(options.redisUrl, { onError: () => undefined }), options.config.name, options.scanIntervalMs ?? 300_000)
      : new StandaloneStopCounts(await connectRedis(options.redisUrl, { reconnect: true, onError: () => undefined }), options.config.name);
    return new UncleanStopRepair(options, counts);
  }

  /** Stops checking; a repair in progress is left to finish its current writer for at most STOP_GRACE_MS. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    // The grace's timer goes with the loop: a pending one would keep the process alive for its whole length.
    const grace = new AbortController();
    await Promise.race([this.#loop, sleep(STOP_GRACE_MS, grace.signal)]);
    grace.abort();
    this.#counts.close();
  }

  async #run(): Promise<void> {
    const { log, intervalMs = 2000 } = this.#options;
    let delay = intervalMs;
    do {
      try {
        await this.#repairIfBehind();
        delay = intervalMs;
      } catch (error) {
        delay = Math.min(delay * 2, Math.max(MAX_RETRY_MS, intervalMs));
        if (!this.#stopping.signal.aborted) log.warn({ err: errorMessage(error), retryInMs: delay }, 'the repair after an unclean runtime stop failed; retried later');
      }
    } while (await sleep(delay, this.#stopping.signal));
  }

  async #repairIfBehind(): Promise<void> {
    const { config, log } = this.#options;
    const behind = await this.#counts.behind();
    if (behind === null) return;
    log.warn(behind.context, 'the runtime stopped uncleanly: re-capturing every hash MySQL disagrees with (verify --repair)');
    const redis = await connectReconcileRedis(this.#options.redisUrl);
    try {
      const mysql = await ReconcileMysql.connect(this.#options.mysqlUrl);
      try {
        for (const writer of config.writers) {
          if (this.#stopping.signal.aborted) return;
          const report = await verify(redis, mysql, { target: writerTarget(config, writer.name, 'the worker config'), repair: true });
          log.info({ writer: writer.name, keys: report.keys, repaired: report.repaired }, 'repaired after an unclean runtime stop');
          if (report.notRepaired.count > 0) log.error({ writer: writer.name, keys: report.notRepaired.examples, count: report.notRepaired.count }, `after an unclean runtime stop, ${report.notRepaired.count} key(s) could not be repaired, ${KILLED_HINT}; re-write them`);
        }
      } finally {
        await mysql.close();
      }
    } finally {
      await redis.close();
    }
    await behind.record();
  }
}

/** One Redis: one count, and the count repaired after, read together. */
class StandaloneStopCounts implements StopCounts {
  readonly #client: NodeRedisClient;
  readonly #repairedKey: string;

  constructor(client: NodeRedisClient, library: string) {
    this.#client = client;
    this.#repairedKey = uncleanStopsRepairedKey(library);
  }

  async behind(): Promise<Behind | null> {
    const [stops, repaired] = (await this.#client.mGet([RUNTIME_UNCLEAN_STOPS_KEY, this.#repairedKey])).map((count) => Number(count ?? 0)) as [number, number];
    if (stops <= repaired) return null;
    return {
      context: { uncleanStops: stops, repairedAfter: repaired },
      record: async () => {
        await this.#client.set(this.#repairedKey, String(stops));
      },
    };
  }

  close(): void {
    this.#client.destroy();
  }
}

/** A Redis Cluster: a count per primary, each compared with its own record (see the header). */
class ClusterStopCounts implements StopCounts {
  readonly #client: ClusterStreamClient;
  readonly #repairedKey: string;
  readonly #scanIntervalMs: number;
  /** Every count key a SCAN found (a key resharded to another node is still read: GET follows its slot). */
  readonly #known = new Set<string>();
  #scannedAt = -Infinity;

  constructor(client: ClusterStreamClient, library: string, scanIntervalMs: number) {
    this.#client = client;
    this.#repairedKey = uncleanStopsRepairedOfNodesKey(library);
    this.#scanIntervalMs = scanIntervalMs;
  }

  async behind(): Promise<Behind | null> {
    await this.#scanIfDue();
    const guessed = this.#client.primaryLowestSlots().map(({ id, slot }) => runtimeUncleanStopsKeyOfNode(id, slotTag(slot)));
    const keys = [...new Set([...this.#known, ...guessed])];
    if (keys.length === 0) return null;
    const [counts, repaired] = await Promise.all([this.#client.strings(keys), this.#client.hashGetAll(this.#repairedKey)]);
    const read = new Map<string, number>();
    for (const [i, key] of keys.entries()) {
      if (counts[i] === null) continue;
      read.set(key, Number(counts[i]));
      this.#known.add(key);
    }
    const behind = [...read].filter(([key, count]) => count > Number(repaired[key] ?? 0));
    if (behind.length === 0) return null;
    return {
      context: { uncleanStops: Object.fromEntries(behind), repairedAfter: Object.fromEntries(behind.map(([key]) => [key, Number(repaired[key] ?? 0)])) },
      record: async () => {
        await this.#client.hashSet(this.#repairedKey, Object.fromEntries([...read].map(([key, count]) => [key, String(count)])));
      },
    };
  }

  /** SCANs every primary when the last full pass is `scanIntervalMs` old; a node that fails is scanned at the next check. */
  async #scanIfDue(): Promise<void> {
    if (Date.now() - this.#scannedAt < this.#scanIntervalMs) return;
    const scans = await Promise.allSettled(this.#client.primaries().map((node) => this.#client.scanKeys(node, RUNTIME_UNCLEAN_STOPS_OF_NODES_PATTERN, 'string')));
    for (const scan of scans) if (scan.status === 'fulfilled') for (const key of scan.value) this.#known.add(key);
    if (scans.every((scan) => scan.status === 'fulfilled')) this.#scannedAt = Date.now();
  }

  close(): void {
    this.#client.destroy();
  }
}
