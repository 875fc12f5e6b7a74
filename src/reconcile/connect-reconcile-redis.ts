/** The ReconcileRedis for the Redis at `url`: a Redis Cluster's (every shard, the slot logs) or one Redis's. */
import { isRedisCluster } from '../worker/redis/cluster-stream-client.js';
import { ClusterReconcileRedis } from './cluster-reconcile-redis.js';
import type { ReconcileRedis } from './reconcile-redis.js';
import { SingleReconcileRedis } from './single-reconcile-redis.js';

/** `signal` aborts the first connection (the one that waits when Redis does not answer). */
export async function connectReconcileRedis(url: string, signal?: AbortSignal): Promise<ReconcileRedis> {
  return (await isRedisCluster(url, signal)) ? ClusterReconcileRedis.connect(url) : SingleReconcileRedis.connect(url);
}
