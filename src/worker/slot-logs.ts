/**
 * A writer's per-slot capture logs on a Redis Cluster that exist now, found with SCAN on every primary (one
 * step per 1000 keys) rather than by reading all 16384 possible names: a read of a missing key raises a
 * `keymiss` keyspace event, and a trigger host (the runtime) handles each of those (docs/scale-out.md).
 */
import { CLUSTER_SLOTS } from '../shared/key-slot.js';
import { CAPTURE_STREAM_PREFIX, DEAD_LETTER_PREFIX, partitionKeys, slotPartitionOfStream, type StreamKeys } from '../shared/keys.js';
import type { ClusterClient } from './redis/stream-client.js';

/** The logs on one primary (`host:port`) whose capture stream exists, in slot order. */
export async function slotLogsOn(client: ClusterClient, node: string, writer: string): Promise<StreamKeys[]> {
  return slotLogsNamed(client, node, writer, CAPTURE_STREAM_PREFIX);
}

/** The logs on every primary whose capture stream exists, in slot order. */
export async function slotLogsOf(client: ClusterClient, writer: string): Promise<StreamKeys[]> {
  return inSlotOrder(await Promise.all(client.primaries().map((node) => slotLogsOn(client, node, writer))));
}

/**
 * The logs on every primary whose dead-letter stream exists, in slot order: a capture that failed before the
 * slot's first record leaves dead letters in a log with no capture stream.
 */
export async function slotDeadLetterLogsOf(client: ClusterClient, writer: string): Promise<StreamKeys[]> {
  return inSlotOrder(await Promise.all(client.primaries().map((node) => slotLogsNamed(client, node, writer, DEAD_LETTER_PREFIX))));
}

/** The logs on one primary with a stream named `<prefix><writer>:<slot>/16384:{<tag>}`. */
async function slotLogsNamed(client: ClusterClient, node: string, writer: string, prefix: string): Promise<StreamKeys[]> {
  const slots: number[] = [];
  for (const stream of await client.scanStreams(node, `${prefix}${writer}:*/${CLUSTER_SLOTS}:{*}`)) {
    const partition = slotPartitionOfStream(CAPTURE_STREAM_PREFIX + stream.slice(prefix.length));
    if (partition !== null && partition.writer === writer) slots.push(partition.slot);
  }
  return slots.sort((a, b) => a - b).map((slot) => partitionKeys(writer, slot, CLUSTER_SLOTS));
}

function inSlotOrder(perNode: readonly StreamKeys[][]): StreamKeys[] {
  return perNode.flat().sort((a, b) => (slotPartitionOfStream(a.changes)?.slot ?? 0) - (slotPartitionOfStream(b.changes)?.slot ?? 0));
}
