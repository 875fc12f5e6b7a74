/**
 * The chaos verification's view of a Redis Cluster: what is left in the capture logs of every shard, and a
 * client that verifyRound can read the hashes through (keys scanned on every shard's server, hashes read
 * through the cluster client).
 */
import type { RedisClientType, createClient, createCluster } from 'redis';
import { waitFor } from '../support/wait.js';

type ServerClient = ReturnType<typeof createClient>;
type ClusterClient = ReturnType<typeof createCluster>;

/** Records and batch descriptors left in every capture log and batches stream, read on every shard's server. */
export async function clusterBacklog(servers: readonly ServerClient[]): Promise<number> {
  let total = 0;
  for (const server of servers) {
    for await (const keys of server.scanIterator({ MATCH: 'wb:*', COUNT: 1000 })) {
      for (const key of keys) if (key.startsWith('wb:changes:') || key.startsWith('wb:batches:')) total += await server.xLen(key);
    }
  }
  return total;
}

/** How long a cluster round waits for its capture logs to drain once the load stopped. */
const DRAIN_TIMEOUT_MS = 90_000;

/** Waits until every shard's capture logs drained: null, or why they did not (what is left, the worker's last log). */
export async function awaitClusterDrain(servers: readonly ServerClient[], lastWorkerLog: () => string): Promise<string | null> {
  try {
    await waitFor('every capture log to drain', async () => (await clusterBacklog(servers)) === 0, DRAIN_TIMEOUT_MS, 200);
    return null;
  } catch (error) {
    return `${error instanceof Error ? error.message : String(error)} (${await clusterBacklog(servers)} left; worker: ${lastWorkerLog()})`;
  }
}

/** What verifyRound reads (SCAN, HGETALL), over every shard. */
export function clusterReadView(servers: readonly ServerClient[], cluster: ClusterClient): RedisClientType {
  return {
    async *scanIterator(options: { MATCH: string; COUNT: number }) {
      for (const server of servers) yield* server.scanIterator(options);
    },
    hGetAll: (key: string) => cluster.hGetAll(key),
  } as unknown as RedisClientType;
}
