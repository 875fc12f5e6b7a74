/**
 * The dead letters of a group of batches, written just before its COMMIT (in the same round trip as the
 * ownership check, so a rolled-back group leaves none of its own): entries that could not be parsed and rows
 * MySQL rejected (found by bisecting), each with its `failed` ack and the writer's meta counters. A format-2
 * record is written in format 1's fields (capture-record.ts), which `dlq list` shows and `dlq replay` re-captures.
 *
 * @internal
 */
import { ACK_TTL_SECONDS, ackStreamKey, type StreamKeys } from '../shared/keys.js';
import { AckField, AckStatus, DeadLetterField, MetaField, RecordField } from '../shared/protocol.js';
import type { Logger } from '../shared/log.js';
import { compareStreamIds } from '../shared/stream-id.js';
import type { BatchWriteResult } from './batch-writer.js';
import type { Unparsable } from './redis/capture-page.js';
import type { AckMessage, StreamClient, StreamFields } from './redis/stream-client.js';
import { entryText, type StreamEntry } from './redis/stream-entry.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

interface DeadLetter {
  readonly entry: StreamEntry;
  readonly reason: string;
  readonly error: Record<string, unknown>;
  /** Records whose acks report the failure. */
  readonly acks: readonly { key: string; uuid: string }[];
}

export interface DeadLetterTarget {
  readonly writer: string;
  readonly keys: StreamKeys;
  readonly client: StreamClient;
  readonly options: Pick<ResolvedWorkerOptions, 'config' | 'metrics'>;
  readonly log: Logger;
}

export async function writeDeadLetters(target: DeadLetterTarget, label: string, unparsable: readonly Unparsable[], result: BatchWriteResult): Promise<void> {
  const letters: DeadLetter[] = [];
  for (const { entry, reason } of unparsable) {
    const key = entryText(entry, RecordField.key);
    const uuid = entryText(entry, RecordField.ack);
    letters.push({ entry, reason, error: { code: 'MALFORMED_RECORD', message: reason }, acks: key !== undefined && uuid !== undefined ? [{ key, uuid }] : [] });
  }
  for (const { record, superseded, error } of result.rejected) {
    const acks = [...superseded, record].flatMap((r) => (r.ack === undefined ? [] : [{ key: r.key, uuid: r.ack }]));
    letters.push({ entry: record.entry, reason: error.message, error: error.toJSON(), acks });
  }
  if (letters.length === 0) return;
  letters.sort((a, b) => compareStreamIds(a.entry.id, b.entry.id));
  const { client, options, keys, writer } = target;
  const at = String(Date.now());
  for (const letter of letters) {
    const fields: StreamFields = [
      [DeadLetterField.writer, writer],
      [DeadLetterField.stage, 'write'],
      [DeadLetterField.reason, letter.reason],
      [DeadLetterField.error, JSON.stringify(letter.error)],
      [DeadLetterField.sourceId, letter.entry.id],
      [DeadLetterField.at, at],
      ...letter.entry.fields,
    ];
    await client.append(keys.deadLetters, fields, options.config.deadLetterMaxLen);
  }
  await client.hashIncrement(keys.meta, MetaField.deadLettered, letters.length);
  await client.hashSet(keys.meta, { [MetaField.lastError]: `write: ${letters.at(-1)!.reason}`, [MetaField.lastErrorAt]: at });
  const acks: AckMessage[] = letters.flatMap((letter) =>
    letter.acks.map(({ key, uuid }) => ({ stream: ackStreamKey(key, uuid), fields: [[AckField.status, AckStatus.failed], [AckField.error, letter.reason]] as const })),
  );
  await client.acknowledge(acks, ACK_TTL_SECONDS);
  options.metrics?.deadLettered(writer, letters.length);
  target.log.warn({ descriptorId: label, deadLettered: letters.length, firstReason: letters[0]!.reason }, `dead-lettered ${letters.length} record(s) of a batch; the rest commits`);
}
