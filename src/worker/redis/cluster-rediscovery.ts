/**
 * node-redis' cluster client looks the topology up again only on MOVED or ASK. A primary that dies answers
 * nothing: its client reconnects forever and every command for its slots waits in that client's queue, also
 * after its replica took the slots over. So whenever a node's connection is being re-established, the topology
 * is looked up again (through a node that is still up; at most once a second): once the replica is promoted,
 * the dead node is no longer in CLUSTER SLOTS, node-redis destroys its client, the commands waiting on it fail
 * (their callers retry, and reach the new primary) and the next ones go to the new primary.
 *
 * `rediscover` is node-redis' own (what it runs on MOVED) but not public: this is the one place that reaches it.
 *
 * @internal
 */
/**
 * What this uses of a node-redis cluster client: structural, so that a cluster of any modules fits (the worker's,
 * from @redis/client, and the tests' and benchmarks', from `redis`, which adds Redis Stack's).
 */
interface NodeRedisCluster {
  on(event: 'node-reconnecting', listener: () => void): unknown;
  readonly masters: ReadonlyArray<{ readonly client?: NodeClient }>;
  readonly replicas: ReadonlyArray<{ readonly client?: NodeClient }>;
}

interface NodeClient {
  readonly isReady: boolean;
  readonly options?: unknown;
}

/** The least time between two lookups. */
const REDISCOVER_INTERVAL_MS = 1000;

interface SlotsInternals {
  rediscover(startWith: { readonly options?: unknown }): Promise<void>;
}

export function rediscoverWhenNodesDrop(cluster: NodeRedisCluster): void {
  const slots = (cluster as unknown as { _slots?: Partial<SlotsInternals> })._slots;
  if (typeof slots?.rediscover !== 'function') return;
  let last = 0;
  cluster.on('node-reconnecting', () => {
    if (Date.now() - last < REDISCOVER_INTERVAL_MS) return;
    const live = [...cluster.masters, ...cluster.replicas].find((node) => node.client?.isReady === true)?.client;
    if (live === undefined) return;
    last = Date.now();
    void slots.rediscover!(live).catch(() => undefined);
  });
}
