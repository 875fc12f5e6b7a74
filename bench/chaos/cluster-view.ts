/**
 * The chaos verification's view of a Redis Cluster: what is left in the capture logs of every shard, and a
 * client that verifyRound can read the hashes through (keys scanned on every shard's server, hashes read
 * through the cluster client).
 */
import type { RedisClientType, createClient, createCluster } from 'redis';
import { keySlot } from '../../src/shared/key-slot.js';
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

/**
 * What is left, log by log, on every shard's server: per slot log with records or descriptors, the shard, the
 * slot, XLEN of its capture stream and of its batches stream, the `workers` group's pending descriptors (by
 * consumer, with their idle time), its meta's cursors, and the slots the shard is still importing or migrating.
 */
export async function clusterBacklogReport(servers: readonly ServerClient[]): Promise<string> {
  const lines: string[] = [];
  for (const [shard, server] of servers.entries()) {
    const logs = new Set<string>();
    for await (const keys of server.scanIterator({ MATCH: 'wb:*', COUNT: 1000 })) {
      for (const key of keys) {
        if (key.startsWith('wb:changes:')) logs.add(key.slice('wb:changes:'.length));
        else if (key.startsWith('wb:batches:')) logs.add(key.slice('wb:batches:'.length));
      }
    }
    for (const log of [...logs].sort()) {
      const [changes, batches] = [await server.xLen(`wb:changes:${log}`), await server.xLen(`wb:batches:${log}`)];
      if (changes === 0 && batches === 0) continue;
      const pending = await server.sendCommand(['XPENDING', `wb:batches:${log}`, 'workers', '-', '+', '10']).catch((error: unknown) => String(error));
      const descriptors = await server.sendCommand(['XRANGE', `wb:batches:${log}`, '-', '+', 'COUNT', '5']);
      const meta = await server.hGetAll(`wb:meta:${log}`);
      const first = (await server.sendCommand(['XRANGE', `wb:changes:${log}`, '-', '+', 'COUNT', '1'])) as [string, unknown][];
      lines.push(`shard ${shard} slot ${keySlot(`wb:changes:${log}`)} ${log}: changes ${changes} (first ${first[0]?.[0] ?? 'none'}), batches ${batches} ${JSON.stringify(descriptors)}, pending ${JSON.stringify(pending)}, meta ${JSON.stringify(meta)}`);
    }
    const nodes = String(await server.sendCommand(['CLUSTER', 'NODES']).catch(() => ''));
    const migrating = nodes.split('\n').filter((line) => line.includes('myself')).flatMap((line) => line.match(/\[[^\]]*\]/g) ?? []);
    if (migrating.length > 0) lines.push(`shard ${shard} slots in move: ${migrating.join(' ')}`);
  }
  return lines.join('\n');
}

/** How long a cluster round waits for its capture logs to drain once the load stopped. */
const DRAIN_TIMEOUT_MS = 90_000;

/**
 * Waits until every shard's capture logs drained: null, or why they did not (what is left, log by log, and the
 * worker's last log).
 */
export async function awaitClusterDrain(servers: readonly ServerClient[], lastWorkerLog: () => string, timeoutMs = DRAIN_TIMEOUT_MS): Promise<string | null> {
  try {
    await waitFor('every capture log to drain', async () => (await clusterBacklog(servers)) === 0, timeoutMs, 200);
    return null;
  } catch (error) {
    return `${error instanceof Error ? error.message : String(error)} (${await clusterBacklog(servers)} left:\n${await clusterBacklogReport(servers)}\nworker: ${lastWorkerLog()})`;
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
