/**
 * A capture backlog for the scenarios that read one without the runtime: persons' upserts in the library's
 * record format, written straight into a stream (pipelined XADDs).
 */
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

/** One person's upsert as the library captures it (op, key, table, key column, mapped columns). */
export function captureRecordFields(id: number): Array<[string, string]> {
  const [personId, first, last, age] = personRow(id);
  return [
    [RecordField.op, RecordOp.upsert],
    [RecordField.key, `person:${personId}`],
    [RecordField.table, PERSONS_TABLE],
    [`${RecordField.keyColumnPrefix}person_id`, personId],
    [`${RecordField.columnPrefix}first`, first],
    [`${RecordField.columnPrefix}last`, last],
    [`${RecordField.columnPrefix}age`, age],
  ];
}

