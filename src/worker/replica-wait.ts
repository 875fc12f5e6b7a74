/**
 * `waitReplicas`: before a group of batches is written to MySQL, its records are made sure to be on that many
 * replicas of the shard that holds its log, so that no row committed to MySQL can be lost from Redis by a
 * failover (docs/scale-out.md, failover). Redis replication is one ordered stream per shard: the worker makes a
 * write of its own in the log's slot (a counter in the log's meta hash) and asks `WAIT <n> <timeout>` on the
 * same connection; a replica that acknowledged that later write holds every record captured before it, and
 * the group's records were (its descriptors were read, so the `cut` that published them came first).
 *
 * The write is the worker's own command on purpose: `WAIT` counts the replicas that reached the offset of the
 * *connection's* last write, and a library call (`cut`) through the local runtime writes on the runtime's
 * connections, not the worker's, so its `WAIT` would count every replica at once.
 *
 * Too few replicas is a ReplicasBehindError, retried with backoff by the loop's StepRetry (a warning naming
 * the shard, `writebehind_retries_total{kind="replicas"}`, the log's `last_error`): the group waits in Redis,
 * and only this log's loop waits (on a cluster, the shard's connection is busy for the `WAIT` only).
 *
 * @internal
 */
import { WriteBehindError } from '../shared/errors.js';
import type { StreamClient } from './redis/stream-client.js';

/** The meta field the worker increments before each `WAIT`: how many waits were asked for this log. */
export const REPLICA_WAITS_FIELD = 'replica_waits';

/** Fewer replicas than `waitReplicas` acknowledged the log's records within the timeout. */
export class ReplicasBehindError extends WriteBehindError {
  constructor(message: string, options: { context?: Record<string, unknown> } = {}) {
    super('REPLICAS_BEHIND', message, options);
  }
}

export interface ReplicaWaitOptions {
  /** Replicas that must hold a group's records before it is written. */
  readonly replicas: number;
  /** WAIT's timeout, ms. */
  readonly timeoutMs: number;
}

export class ReplicaWait {
  readonly #client: StreamClient;
  readonly #meta: string;
  readonly #options: ReplicaWaitOptions;

  /** `meta`: the log's meta hash, in the slot of its capture stream. */
  constructor(client: StreamClient, meta: string, options: ReplicaWaitOptions) {
    this.#client = client;
    this.#meta = meta;
    this.#options = options;
  }

  /** Resolves once `replicas` replicas hold everything captured so far in the log; else ReplicasBehindError. */
  async confirm(): Promise<void> {
    const { replicas, timeoutMs } = this.#options;
    const { acknowledged, node } = await this.#client.waitForReplicas(this.#meta, REPLICA_WAITS_FIELD, replicas, timeoutMs);
    if (acknowledged >= replicas) return;
    throw new ReplicasBehindError(`${acknowledged} of ${replicas} replicas of shard ${node} acknowledged the log ${this.#meta} within ${timeoutMs} ms; the batch waits in Redis until they do`, {
      context: { shard: node, key: this.#meta, acknowledged, replicas },
    });
  }
}
