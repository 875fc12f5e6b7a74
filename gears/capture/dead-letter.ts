/**
 * Dead letters of the capture stage: a change that cannot be captured (unknown flag, key without an id,
 * a non-hash value under the prefix, binary names) is recorded where an operator sees it, and the trigger
 * returns normally so the write and the rest of the pipeline go on.
 *
 * Entry of `wb:dlq:{<writer>}`: `dlq:writer`, `dlq:stage` capture, `dlq:reason`, `dlq:event`, `dlq:at` (ms),
 * then whatever of the record is known (`key`, `table`, `ack`, `k:<column>`...). The meta hash counts it
 * (`dead_lettered`) and keeps the last reason (`last_error`, `last_error_at`).
 */
import { DeadLetterField, MetaField, RecordField } from '../../src/shared/protocol.js';
import { serverTimeMs } from '../redis-time.js';
import type { WriterContext } from '../writer-context.js';
import { acknowledgeFailure } from './ack.js';

export interface CaptureFailure {
  readonly reason: string;
  /** The keyspace event that fired the trigger. */
  readonly event: string;
  /** The key as text (hex for a key that is not UTF-8). */
  readonly key: string;
  /** uuid of a requested acknowledgement: it gets `status failed` and the reason. */
  readonly ack: string | null;
  /** The key's bytes when `key` is their hex (not UTF-8): the acknowledgement is named by the bytes. */
  readonly rawKey?: ArrayBuffer;
  /** The primary key columns, when the key had a valid id. */
  readonly keyValues?: readonly (readonly [string, string])[];
}

export function deadLetterCapture(client: GearsClient, writer: WriterContext, failure: CaptureFailure): void {
  const at = String(serverTimeMs(client));
  const args: GearsArgument[] = [
    DeadLetterField.writer, writer.name,
    DeadLetterField.stage, 'capture',
    DeadLetterField.reason, failure.reason,
    DeadLetterField.event, failure.event,
    DeadLetterField.at, at,
    RecordField.key, failure.key,
    RecordField.table, writer.table,
  ];
  if (failure.ack !== null) args.push(RecordField.ack, failure.ack);
  for (const [column, value] of failure.keyValues ?? []) args.push(`${RecordField.keyColumnPrefix}${column}`, value);
  client.call('XADD', writer.keys.deadLetters, 'MAXLEN', '~', String(writer.deadLetterMaxLen), '*', ...args);
  client.call('HINCRBY', writer.keys.meta, MetaField.deadLettered, '1');
  client.call('HSET', writer.keys.meta, MetaField.lastError, `capture: ${failure.reason}`, MetaField.lastErrorAt, at);
  if (failure.ack !== null) acknowledgeFailure(client, failure.rawKey ?? failure.key, failure.ack, failure.reason);
  redis.log(`writebehind ${writer.name}: dead-lettered ${failure.event} on ${failure.key}: ${failure.reason}`);
}
