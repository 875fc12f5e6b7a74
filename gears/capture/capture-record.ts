/**
 * The capture record: the field/value list of one entry of the writer's capture stream, in the format of
 * src/shared/protocol.ts (`op`, `key`, `table`, `ack`?, `k:<column>`..., `c:<column>`..., `null`?).
 *
 * Records are self-describing (table and column names travel with the data), so a redeploy that changes a
 * mapping never reinterprets a backlog. Values stay ArrayBuffers: the library never decodes them.
 */
import { RecordField, RecordOp } from '../../src/shared/protocol.js';
import type { WriterContext } from '../writer-context.js';

/** Field, value, field, value, ... as XADD takes them. */
export type RecordArgs = GearsArgument[];

export interface RecordHeader {
  readonly key: string;
  /** Primary key columns and their values, from the key. */
  readonly keyValues: readonly (readonly [string, string])[];
  /** uuid of a requested acknowledgement; the worker acks it after the MySQL commit. */
  readonly ack: string | null;
}

/** An upsert of the row image: every mapped column, from its field's raw value or NULL when the field is absent. */
export function upsertRecord(writer: Pick<WriterContext, 'table' | 'mappings'>, header: RecordHeader, fields: ReadonlyMap<string, ArrayBuffer>): RecordArgs {
  const args = headerArgs(RecordOp.upsert, writer.table, header);
  const nulls: string[] = [];
  for (const [field, column] of writer.mappings) {
    const value = fields.get(field);
    if (value === undefined) nulls.push(column);
    else args.push(`${RecordField.columnPrefix}${column}`, value);
  }
  // Absent when every mapped column has a value.
  if (nulls.length > 0) args.push(RecordField.nulls, nulls.join(','));
  return args;
}

/** A delete of the row the key maps to. */
export function deleteRecord(writer: Pick<WriterContext, 'table'>, header: RecordHeader): RecordArgs {
  return headerArgs(RecordOp.delete, writer.table, header);
}

function headerArgs(op: string, table: string, header: RecordHeader): RecordArgs {
  const args: RecordArgs = [RecordField.op, op, RecordField.key, header.key, RecordField.table, table];
  if (header.ack !== null) args.push(RecordField.ack, header.ack);
  for (const [column, value] of header.keyValues) args.push(`${RecordField.keyColumnPrefix}${column}`, value);
  return args;
}
