/**
 * One writer's progress as read from Redis with plain commands (so it works before or without the library's
 * `status` function): backlog, batches, oldest uncommitted record, counters and the last error. Used by
 * `writebehind status` and by the worker's gauges. A writer with `partitions: N` is the sum of its capture logs
 * (each partition's, and the unpartitioned one a previous layout may have left a backlog in), each also listed.
 */
import { streamIdMs } from '../shared/stream-id.js';
import { WORKER_GROUP, captureLogsOf, writerKeys, type StreamKeys } from '../shared/keys.js';
import { MetaField } from '../shared/protocol.js';
import type { StreamClient } from './redis/stream-client.js';

/** The progress of one capture log: a writer's, or one partition's. */
export interface LogStatus {
  /** The log's capture stream (also its exactly-once row id). */
  readonly stream: string;
  /** Captured records not yet committed and trimmed. */
  readonly backlog: number;
  /** Batch descriptors not yet committed (delivered or not). */
  readonly queuedBatches: number;
  /** Of those, delivered to a worker and in progress or waiting. */
  readonly pendingBatches: number;
  /** Age of the oldest captured record not yet committed; 0 when none. */
  readonly oldestPendingAgeMs: number;
  readonly captured: number;
  /** Last capture id committed to MySQL. */
  readonly committed: string | null;
  readonly committedRows: number;
  /** Dead letters ever recorded, and entries in the dead-letter stream now. */
  readonly deadLettered: number;
  readonly deadLetters: number;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
}

export interface WriterStatus extends Omit<LogStatus, 'stream'> {
  readonly writer: string;
  /**
   * A partitioned writer's logs: the unpartitioned one first, then each partition; the figures above are their
   * sums (the oldest age, the latest error, and `committed` null: each log has its own). Null when unpartitioned.
   */
  readonly partitions: readonly LogStatus[] | null;
}

export async function readWriterStatus(client: StreamClient, writer: string, partitions = 1, now = Date.now()): Promise<WriterStatus> {
  if (partitions === 1) {
    const { stream: _, ...status } = await readLogStatus(client, writerKeys(writer), now);
    return { writer, ...status, partitions: null };
  }
  return readLogsStatus(client, writer, captureLogsOf(writer, partitions), now);
}

/**
 * A writer as the sum of the given capture logs (the unpartitioned one first), each also listed: a partitioned
 * writer's, or on a Redis Cluster its per-slot logs found by slot-logs.ts.
 */
export async function readLogsStatus(client: StreamClient, writer: string, keys: readonly StreamKeys[], now = Date.now()): Promise<WriterStatus> {
  const logs = await Promise.all(keys.map((log) => readLogStatus(client, log, now)));
  const sum = (pick: (log: LogStatus) => number) => logs.reduce((total, log) => total + pick(log), 0);
  const latestError = logs.filter((log) => log.lastErrorAt !== null).sort((a, b) => Number(b.lastErrorAt) - Number(a.lastErrorAt))[0];
  return {
    writer,
    backlog: sum((l) => l.backlog),
    queuedBatches: sum((l) => l.queuedBatches),
    pendingBatches: sum((l) => l.pendingBatches),
    oldestPendingAgeMs: Math.max(...logs.map((l) => l.oldestPendingAgeMs)),
    captured: sum((l) => l.captured),
    committed: null,
    committedRows: sum((l) => l.committedRows),
    deadLettered: sum((l) => l.deadLettered),
    deadLetters: sum((l) => l.deadLetters),
    lastError: latestError?.lastError ?? null,
    lastErrorAt: latestError?.lastErrorAt ?? null,
    partitions: logs,
  };
}

async function readLogStatus(client: StreamClient, keys: StreamKeys, now = Date.now()): Promise<LogStatus> {
  const meta = await client.hashGetAll(keys.meta);
  const [oldest] = await client.range(keys.changes, 1);
  const pendingBatches = await client.pendingCount(keys.batches, WORKER_GROUP);
  const count = (field: string) => Number(meta[field] ?? '0');
  return {
    stream: keys.changes,
    backlog: await client.length(keys.changes),
    queuedBatches: await client.length(keys.batches),
    pendingBatches,
    oldestPendingAgeMs: oldest === undefined ? 0 : Math.max(0, now - streamIdMs(oldest.id)),
    captured: count(MetaField.captured),
    committed: meta[MetaField.committed] ?? null,
    committedRows: count(MetaField.committedRows),
    deadLettered: count(MetaField.deadLettered),
    deadLetters: await client.length(keys.deadLetters),
    lastError: meta[MetaField.lastError] ?? null,
    lastErrorAt: meta[MetaField.lastErrorAt] ?? null,
  };
}
