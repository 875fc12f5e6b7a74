/**
 * A capture backlog for the scenarios that read one without the runtime: persons' upserts in the library's
 * record format (format 2, one `v2` field), written straight into a stream (pipelined XADDs).
 */
import { encodeCompactRecord } from '../../src/shared/compact-record.js';
import { RecordField, RecordOp } from '../../src/shared/protocol.js';
import type { RedisStreamClient } from '../../src/worker/redis/redis-stream-client.js';
import { personRow, PERSONS_TABLE } from './persons-table.js';
import { startProgress } from './progress.js';

const LOAD_PIPELINE = 1000;

export async function loadCaptureRecords(client: RedisStreamClient, stream: string, rows: number, label: string): Promise<void> {
  const load = startProgress(`${label}: capture records into redis-server`, 'records');
  for (let start = 0; start < rows; start += LOAD_PIPELINE) {
    const count = Math.min(LOAD_PIPELINE, rows - start);
    await Promise.all(Array.from({ length: count }, (_, i) => client.append(stream, captureRecordFields(start + i + 1))));
    load.update(start + count, rows);
  }
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const NAMES = { table: utf8(PERSONS_TABLE), personId: utf8('person_id'), first: utf8('first'), last: utf8('last'), age: utf8('age') };

/** The hash key of bench person `id`. */
export function captureRecordKey(id: number): string {
  return `person:${personRow(id)[0]}`;
}

/** One person's upsert as the library captures it (op, key, table, key column, mapped columns). */
export function captureRecordFields(id: number): Array<[string, Buffer]> {
  const [personId, first, last, age] = personRow(id);
  const record = encodeCompactRecord({
    op: RecordOp.upsert,
    key: utf8(captureRecordKey(id)),
    table: NAMES.table,
    ack: null,
    keyValues: [[NAMES.personId, utf8(personId)]],
    columns: [[NAMES.first, utf8(first)], [NAMES.last, utf8(last)], [NAMES.age, utf8(age)]],
  });
  return [[RecordField.v2, Buffer.from(record.buffer, record.byteOffset, record.byteLength)]];
}
