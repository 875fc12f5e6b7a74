import { WORKER_GROUP } from '../../src/shared/keys.js';
import { LibraryFunction, MetaField } from '../../src/shared/protocol.js';
import { replyArray, replyInteger, replyOptionalString } from '../replies.js';
import { openRecordIds, type OpenRecordCounts } from '../batching/open-records.js';
import { readPersistedCursor, type PersistedCursor } from '../batching/writer-meta.js';
import type { WriterContext } from '../writer-context.js';
import { expectArgumentCount } from './function-arguments.js';

/** What `status` reports for one writer. Counts are numbers, ids are "<ms>-<seq>" or null. */
export interface WriterStatus {
  /** Records in the capture stream (captured and not yet committed-and-trimmed). */
  backlog: number;
  /** Records captured since the last cut (not in a batch yet). */
  open: number;
  cut: string | null;
  committed: string | null;
  captured: number;
  batches: number;
  committed_rows: number;
  /** Dead letters ever recorded (meta counter). */
  dead_lettered: number;
  /** Entries in the dead-letter stream now (capped by deadLetterMaxLen). */
  dead_letters: number;
  /** Batch descriptors delivered to a worker and not yet committed (XPENDING). */
  pending_batches: number;
  /** Batch descriptors in the batches stream, delivered or not. */
  queued_batches: number;
  last_error: string | null;
  last_error_at: string | null;
}

export interface LibraryStatus {
  library: string;
  version: string;
  /** A partitioned writer's entry sums its partitions (`cut` and `committed` are then null). */
  writers: Record<string, WriterStatus>;
  /** Only when a writer is partitioned: each partition's status, by its capture stream. */
  partitions?: Record<string, WriterStatus>;
}

/**
 * TFCALL <lib>.status 0   (no-writes)
 *
 * - keys: none; args: none
 * - reply: JSON text of {library, version, writers: {<writer name>: WriterStatus}, [partitions: {<capture stream>: WriterStatus}]}
 * - errors: "ERR status: ..." when given keys or arguments
 */
export function registerStatusFunction(libraryName: string, version: string, writers: readonly WriterContext[], counts: OpenRecordCounts, batchSize: number): void {
  redis.registerFunction(
    LibraryFunction.status,
    (client, ...args) => {
      expectArgumentCount(LibraryFunction.status, args, []);
      const status: LibraryStatus = { library: libraryName, version, writers: {} };
      const byWriter = new Map<string, Record<string, WriterStatus>>();
      for (const writer of writers) {
        const partitions = byWriter.get(writer.name) ?? {};
        partitions[writer.keys.changes] = writerStatus(client, writer, counts, batchSize);
        byWriter.set(writer.name, partitions);
      }
      for (const [name, partitions] of byWriter) {
        const each = Object.values(partitions);
        if (each.length === 1) {
          status.writers[name] = each[0]!;
          continue;
        }
        status.writers[name] = sumOfPartitions(each);
        status.partitions = { ...status.partitions, ...partitions };
      }
      return JSON.stringify(status);
    },
    { description: 'JSON status of every writer: backlog, cursors, counters, pending batches, last error', flags: [redis.functionFlags.NO_WRITES] },
  );
}

function writerStatus(client: GearsClient, writer: WriterContext, counts: OpenRecordCounts, batchSize: number): WriterStatus {
  const { changes, batches, deadLetters, meta } = writer.keys;
  const fields: string[] = [MetaField.committed, MetaField.committedRows, MetaField.deadLettered, MetaField.lastError, MetaField.lastErrorAt];
  const values = replyArray(client.call('HMGET', meta, ...fields), 'HMGET').map((value) => replyOptionalString(value, 'HMGET'));
  const get = (field: string) => values[fields.indexOf(field)] ?? null;
  const count = (field: string) => Number(get(field) ?? '0');
  const cursor = readPersistedCursor(client, meta);
  const open = openCount(client, writer, counts, cursor, batchSize);
  return {
    backlog: Number(replyInteger(client.call('XLEN', changes), 'XLEN')),
    open,
    cut: cursor.cut,
    committed: get(MetaField.committed),
    captured: cursor.captured + open,
    batches: cursor.batches,
    committed_rows: count(MetaField.committedRows),
    dead_lettered: count(MetaField.deadLettered),
    dead_letters: Number(replyInteger(client.call('XLEN', deadLetters), 'XLEN')),
    pending_batches: pendingBatches(client, batches),
    queued_batches: Number(replyInteger(client.call('XLEN', batches), 'XLEN')),
    last_error: get(MetaField.lastError),
    last_error_at: get(MetaField.lastErrorAt),
  };
}

/** A partitioned writer as a whole: counts summed, the latest error; no single cursor. */
function sumOfPartitions(partitions: readonly WriterStatus[]): WriterStatus {
  const sum = (field: keyof WriterStatus) => partitions.reduce((total, p) => total + (p[field] as number), 0);
  const latest = partitions.reduce<WriterStatus | null>((best, p) => (p.last_error_at !== null && (best === null || Number(p.last_error_at) > Number(best.last_error_at)) ? p : best), null);
  return {
    backlog: sum('backlog'),
    open: sum('open'),
    cut: null,
    committed: null,
    captured: sum('captured'),
    batches: sum('batches'),
    committed_rows: sum('committed_rows'),
    dead_lettered: sum('dead_lettered'),
    dead_letters: sum('dead_letters'),
    pending_batches: sum('pending_batches'),
    queued_batches: sum('queued_batches'),
    last_error: latest?.last_error ?? null,
    last_error_at: latest?.last_error_at ?? null,
  };
}

/** The batcher's in-memory count when it is current, else the stream's entries after `cut` (no writes here). */
function openCount(client: GearsClient, writer: WriterContext, counts: OpenRecordCounts, cursor: PersistedCursor, batchSize: number): number {
  const current = counts.current(writer);
  if (current !== undefined && current.persisted.epoch === cursor.epoch && current.persisted.cut === cursor.cut && current.persisted.batches === cursor.batches) return current.open;
  return openRecordIds(client, writer, cursor.cut, '+', batchSize).length;
}

/** XPENDING summary count; 0 before the batches stream and its group exist. */
function pendingBatches(client: GearsClient, batches: string): number {
  if (replyInteger(client.call('EXISTS', batches), 'EXISTS') === 0n) return 0;
  try {
    const [count] = replyArray(client.call('XPENDING', batches, WORKER_GROUP), 'XPENDING');
    return count === undefined ? 0 : Number(replyInteger(count, 'XPENDING'));
  } catch (error) {
    if (String(error).startsWith('NOGROUP')) return 0;
    throw error;
  }
}
