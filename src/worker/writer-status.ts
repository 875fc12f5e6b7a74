/**
 * One writer's progress as read from Redis with plain commands (so it works before or without the library's
 * `status` function): backlog, batches, oldest uncommitted record, counters and the last error. Used by
 * `writebehind status` and by the worker's gauges.
 */
import { streamIdMs } from '../shared/stream-id.js';
import { WORKER_GROUP, writerKeys } from '../shared/keys.js';
import { MetaField } from '../shared/protocol.js';
import type { StreamClient } from './redis/stream-client.js';

export interface WriterStatus {
  readonly writer: string;
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

export async function readWriterStatus(client: StreamClient, writer: string, now = Date.now()): Promise<WriterStatus> {
  const keys = writerKeys(writer);
  const meta = await client.hashGetAll(keys.meta);
  const [oldest] = await client.range(keys.changes, 1);
  const pendingBatches = await client.pendingCount(keys.batches, WORKER_GROUP);
  const count = (field: string) => Number(meta[field] ?? '0');
  return {
    writer,
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
