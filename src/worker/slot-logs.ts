/**
 * A writer's per-slot capture logs on a Redis Cluster that exist now, found with SCAN on every primary (one
 * step per 1000 keys) rather than by reading all 16384 possible names: a read of a missing key raises a
 * `keymiss` keyspace event, and a trigger host (the runtime) handles each of those (docs/scale-out.md).
 */
import { CLUSTER_SLOTS } from '../shared/key-slot.js';
import { CAPTURE_STREAM_PREFIX, partitionKeys, slotPartitionOfStream, type StreamKeys } from '../shared/keys.js';
import type { ClusterClient } from './redis/stream-client.js';

/** The logs on one primary (`host:port`), in slot order. */
export async function slotLogsOn(client: ClusterClient, node: string, writer: string): Promise<StreamKeys[]> {
  const slots: number[] = [];
  for (const stream of await client.scanStreams(node, `${CAPTURE_STREAM_PREFIX}${writer}:*/${CLUSTER_SLOTS}:{*}`)) {
    const partition = slotPartitionOfStream(stream);
    if (partition !== null && partition.writer === writer) slots.push(partition.slot);
  }
  return slots.sort((a, b) => a - b).map((slot) => partitionKeys(writer, slot, CLUSTER_SLOTS));
}

/** The logs on every primary, in slot order. */
export async function slotLogsOf(client: ClusterClient, writer: string): Promise<StreamKeys[]> {
  const perNode = await Promise.all(client.primaries().map((node) => slotLogsOn(client, node, writer)));
  return perNode.flat().sort((a, b) => (slotPartitionOfStream(a.changes)?.slot ?? 0) - (slotPartitionOfStream(b.changes)?.slot ?? 0));
}
