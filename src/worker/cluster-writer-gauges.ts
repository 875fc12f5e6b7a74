/**
 * A writer's gauges on a Redis Cluster: its `{w}` log (a backlog the unpartitioned library may have left) plus
 * its slot logs on every primary, found with the sweep's SCAN (slot-logs.ts), summed per writer and per primary.
 * Each log costs two XLENs and an HGETALL of its meta (plus an XRANGE when it has a backlog), pipelined per
 * shard: with thousands of slot logs a reading is thousands of commands, so the worker takes one less often
 * than on one Redis (worker.ts).
 */
import { streamIdMs } from '../shared/stream-id.js';
import { MetaField } from '../shared/protocol.js';
import type { ClusterClient } from './redis/stream-client.js';
import { slotLogsOn } from './slot-logs.js';
import type { ReadWriterGauges } from './status-sampler.js';
import { readWriterStatus } from './writer-status.js';

interface ShardReading {
  readonly shard: string;
  readonly backlog: number;
  readonly batches: number;
  readonly captured: number;
  readonly deadLettered: number;
  /** Id time of the oldest record not yet committed on this shard; Infinity when none. */
  readonly oldestMs: number;
}

export function clusterWriterGauges(client: ClusterClient): ReadWriterGauges {
  return async ({ name }, now) => {
    const legacy = await readWriterStatus(client, name, 1, now);
    const shards = await Promise.all(client.primaries().map((node) => readShard(client, node, name)));
    const oldestMs = Math.min(...shards.map((shard) => shard.oldestMs));
    const sum = (pick: (shard: ShardReading) => number) => shards.reduce((total, shard) => total + pick(shard), 0);
    return {
      writer: name,
      backlog: legacy.backlog + sum((s) => s.backlog),
      pendingBatches: legacy.queuedBatches + sum((s) => s.batches),
      oldestPendingAgeSeconds: Math.max(legacy.oldestPendingAgeMs, oldestMs === Infinity ? 0 : now - oldestMs, 0) / 1000,
      captured: legacy.captured + sum((s) => s.captured),
      deadLettered: legacy.deadLettered + sum((s) => s.deadLettered),
      shards: shards.map(({ shard, backlog }) => ({ shard, backlog })),
    };
  };
}

async function readShard(client: ClusterClient, node: string, writer: string): Promise<ShardReading> {
  const logs = await slotLogsOn(client, node, writer);
  const [backlogs, batches, metas] = await Promise.all([
    client.lengths(logs.map((log) => log.changes)),
    client.lengths(logs.map((log) => log.batches)),
    Promise.all(logs.map((log) => client.hashGetAll(log.meta))),
  ]);
  const oldest = await Promise.all(logs.filter((_, i) => backlogs[i]! > 0).map(async (log) => (await client.range(log.changes, 1))[0]));
  return {
    shard: node,
    backlog: backlogs.reduce((total, n) => total + n, 0),
    batches: batches.reduce((total, n) => total + n, 0),
    captured: metas.reduce((total, meta) => total + Number(meta[MetaField.captured] ?? '0'), 0),
    deadLettered: metas.reduce((total, meta) => total + Number(meta[MetaField.deadLettered] ?? '0'), 0),
    oldestMs: Math.min(...oldest.map((entry) => (entry === undefined ? Infinity : streamIdMs(entry.id)))),
  };
}
