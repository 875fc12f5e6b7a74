/**
 * The wire formats between the gears library and the worker: capture records, batch descriptors, the writer's
 * meta hash, dead-letter entries and the library's TFCALL functions. Both sides import these names; the
 * formats are documented here and in docs/protocol.md.
 *
 * Bundled into the gears library: keep it free of Node APIs.
 */

/**
 * A capture record (one entry of `wb:changes:{<writer>}`) is self-describing, so a redeploy that changes a
 * mapping never reinterprets a backlog. Two formats exist; the worker reads both:
 *
 * - **format 2** (written by this library): one field `v2` holding op, key, table, ack, key
 *   columns and columns as length-prefixed binary (layout in compact-record.ts);
 * - **format 1** (written by earlier libraries, and still the form of dead letters and `dlq replay`), a
 *   field per part:
 *
 * | field        | meaning                                                                    |
 * |--------------|----------------------------------------------------------------------------|
 * | `op`         | `u` upsert the row image, `d` delete the row                               |
 * | `key`        | the Redis key the change came from                                         |
 * | `table`      | target table                                                               |
 * | `ack`        | uuid of a requested acknowledgement (absent when none was asked for)       |
 * | `k:<column>` | a primary key column and its value (one per key column)                   |
 * | `c:<column>` | a mapped column and the hash field's value, raw bytes (upserts only)      |
 * | `null`       | comma-separated mapped columns whose field is absent → NULL (upserts only) |
 */
export const RecordField = Object.freeze({
  /** Format 2: the whole record in this one field. */
  v2: 'v2',
  op: 'op',
  key: 'key',
  table: 'table',
  ack: 'ack',
  nulls: 'null',
  keyColumnPrefix: 'k:',
  columnPrefix: 'c:',
});

export const RecordOp = Object.freeze({ upsert: 'u', delete: 'd' });
export type RecordOpCode = (typeof RecordOp)[keyof typeof RecordOp];

/**
 * A batch descriptor (one entry of `wb:batches:{<writer>}`): the capture records with `from` < id ≤ `to`.
 * Batches of one writer are contiguous: each `from` is the previous batch's `to` ("0-0" for the first).
 * `config`: the captureStamp (capture-config.ts) of the writer's config in the library that cut it, so a worker
 * refuses a batch cut after a redeploy that changed the writer's capture; absent in earlier libraries' batches.
 */
export const BatchField = Object.freeze({ stream: 'stream', from: 'from', to: 'to', count: 'count', config: 'config' });

/** Fields of the writer's meta hash `wb:meta:{<writer>}`. */
export const MetaField = Object.freeze({
  /** Last capture id covered by a published batch. */
  cut: 'cut',
  /**
   * Token of the library instance that counts the records after `cut` in its memory; another value (a
   * FLUSHALL, a failover) tells that instance its count is stale.
   */
  epoch: 'epoch',
  /** Last capture id committed to MySQL. */
  committed: 'committed',
  /** no keys; args: `committed`'s keys and arguments for each of many batches of this node's logs. */
  committedMany: 'committed_many',
  /** Records in published batches (the records after `cut` are not in it yet). */
  captured: 'captured',
  batches: 'batches',
  committedRows: 'committed_rows',
  deadLettered: 'dead_lettered',
  lastError: 'last_error',
  lastErrorAt: 'last_error_at',
});

/** Fields of a dead-letter entry; the original record's fields follow, so `dlq replay` can re-capture it. */
export const DeadLetterField = Object.freeze({
  writer: 'dlq:writer',
  stage: 'dlq:stage',
  reason: 'dlq:reason',
  /** JSON of the error (code, MySQL errno/sqlState, context). */
  error: 'dlq:error',
  /** Capture stream id of the record, for write-stage failures. */
  sourceId: 'dlq:source_id',
  event: 'dlq:event',
  at: 'dlq:at',
});

export type DeadLetterStage = 'capture' | 'write';

/** Acknowledgement stream entries: `status done`, or `status failed` with `error`. */
export const AckField = Object.freeze({ status: 'status', error: 'error' });
export const AckStatus = Object.freeze({ done: 'done', failed: 'failed' });

/** The library's TFCALL functions, called as `TFCALL <library>.<name> <numkeys> ...`. */
export const LibraryFunction = Object.freeze({
  /** keys: capture stream; args: maxDelayMs. Cuts a partial batch if its oldest record waited that long. */
  cut: 'cut',
  /** keys: capture stream, batches stream; args: batch descriptor id, last committed id, rows written. */
  committed: 'committed',
  /** no keys; args: `committed`'s keys and arguments for each of many batches of this node's logs. */
  committedMany: 'committed_many',
  /**
   * no keys; args: writer, maxDelayMs, limit. Cuts up to `limit` of this node's due partitions of the writer,
   * replies [more, capture streams with batches to commit] (a cluster's ready index, docs/scale-out.md).
   */
  ready: 'ready',
  /**
   * no keys; args: writer, maxDelayMs, capture streams. Takes logs the sweep found into the ready index, cutting
   * what is due; replies those of them with batches to commit.
   */
  adopt: 'adopt',
  /** no keys; no-writes. JSON status of every writer. */
  status: 'status',
  /** no keys; no-writes. The library version. */
  version: 'version',
  /**
   * keys: capture stream, then hash keys. Captures each hash's current image (backfill, verify --repair). A key
   * whose divergence record (`#` `+`/`-`) holds is kept; a stale record is removed and the key captured.
   */
  backfill: 'backfill',
  /**
   * keys: capture stream, then hash keys. Captures a delete for each key that no longer exists (verify --repair),
   * judging divergence records as `backfill` does.
   */
  deleteMissing: 'delete_missing',
  /**
   * keys: capture stream, then hash keys. Removes each key's divergence record (`#` `+`/`-`) that no longer holds
   * (verify --repair); replies the number removed.
   */
  forgetDivergent: 'forget_divergent',
  /**
   * keys: hash keys (of one slot on a cluster). Captures each key's current state into its own capture log, as a
   * write would: the image of a hash, a delete of a key that is gone (writebehind recapture / reshard). A key
   * whose divergence record (`#` `+`/`-`) holds is kept; a stale record is removed and the key captured.
   */
  recapture: 'recapture',
});

/** The reply of `backfill`, `delete_missing` and `recapture` (JSON text): what the call did with its keys. */
export interface RecaptureCounts {
  /** Records appended to the capture stream (upserts for `backfill`, deletes for `delete_missing`, either for `recapture`). */
  readonly captured: number;
  /** Keys skipped: gone (`backfill`; `recapture` of an `onExpire: keep` writer), present again (`delete_missing`). */
  readonly skipped: number;
  /**
   * Keys left alone because they were written with `#` `+`/`-` and their divergence record still holds: kept
   * apart from MySQL on purpose (all three functions; src/shared/divergence-record.ts).
   */
  readonly kept: number;
  /** Keys holding another type than a hash: left alone, as the capture leaves them. */
  readonly notHash: number;
  /** Keys whose id is not a valid primary key: dead-lettered, as a live capture does. */
  readonly deadLettered: number;
}

/** RecaptureCounts being added up, from zero. */
export type CountsTotal = { -readonly [K in keyof RecaptureCounts]: RecaptureCounts[K] };

export function zeroCounts(): CountsTotal {
  return { captured: 0, skipped: 0, kept: 0, notHash: 0, deadLettered: 0 };
}

/** Most keys one `backfill` / `delete_missing` / `recapture` call takes. */
export const RECAPTURE_MAX_KEYS = 1000;
