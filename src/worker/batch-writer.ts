/**
 * The worker's view of a target database: write one batch of capture records in one transaction (or the
 * batches of several capture logs in one: a cluster's slot logs, group-commit.ts), report the records it had to
 * reject, and let the caller act just before the commit (dead letters go to Redis there, so a crash after the
 * commit never loses them).
 */
import type { WriteBehindError } from '../shared/errors.js';
import type { CaptureRecord } from './capture-record.js';

export interface WriteBatch {
  readonly writer: string;
  /** Capture stream the records come from; also the exactly-once cursor's id. */
  readonly stream: string;
  readonly descriptorId: string;
  /** Exclusive lower bound and inclusive upper bound of the batch's capture ids. */
  readonly from: string;
  readonly to: string;
  /** Parsed records in stream order. */
  readonly records: readonly CaptureRecord[];
}

export interface RejectedRecord {
  /** The change that was written and failed (the row's last change in the batch). */
  readonly record: CaptureRecord;
  /** Earlier changes of the same row in the batch; they share the failure. */
  readonly superseded: readonly CaptureRecord[];
  readonly error: WriteBehindError;
}

export interface BatchWriteResult {
  /** Rows changed (after coalescing) by this transaction. */
  readonly rows: number;
  /** Records the exactly-once cursor showed as already written by an earlier attempt. */
  readonly alreadyWritten: readonly CaptureRecord[];
  /** The exactly-once cursor had reached the batch's `to`: an earlier attempt committed the whole batch. */
  readonly replayed: boolean;
  /** Records that cannot be stored; everything else commits. */
  readonly rejected: readonly RejectedRecord[];
}

export interface WriteHooks<V> {
  /**
   * Runs inside the transaction, after every statement and before COMMIT. Returning `{ veto }` rolls the batch
   * back as an expected outcome (write() resolves with that veto, nothing committed); throwing is a failure.
   */
  beforeCommit?(result: BatchWriteResult): Promise<{ readonly veto: V } | void>;
}

/** What write() resolves with: the result, and the hook's veto when it rolled the batch back instead of committing. */
export type WriteOutcome<V> = BatchWriteResult & { readonly veto?: V };

export interface WriteManyHooks<V> {
  /** As WriteHooks.beforeCommit, with one result per batch, in the batches' order. */
  beforeCommit?(results: readonly BatchWriteResult[]): Promise<{ readonly veto: V } | void>;
}

/** What writeMany() resolves with: a result per batch (in order), and the hook's veto when it rolled them back. */
export interface WriteManyOutcome<V> {
  readonly results: readonly BatchWriteResult[];
  readonly veto?: V;
}

export interface BatchWriter {
  /**
   * Writes the batch. Throws a MysqlWriteError when the whole batch must be retried (connection, deadlock,
   * missing table...); row-level data errors are returned in `rejected` instead.
   */
  write<V = never>(batch: WriteBatch, hooks?: WriteHooks<V>): Promise<WriteOutcome<V>>;
  /**
   * Writes batches of different capture logs (at most one per stream) in one transaction: rows merged into
   * the same statements, each stream's exactly-once cursor read and moved in it. Throws as write() does.
   */
  writeMany<V = never>(batches: readonly WriteBatch[], hooks?: WriteManyHooks<V>): Promise<WriteManyOutcome<V>>;
  close(): Promise<void>;
}
