/**
 * The capture record: the field/value list of one entry of the writer's capture stream, in record format 2 of
 * src/shared/compact-record.ts (one field `v2`: op, key, table, ack, key columns, columns as length-prefixed
 * binary).
 *
 * Records are self-describing (table and column names travel with the data), so a redeploy that changes a
 * mapping never reinterprets a backlog. Values stay raw bytes: the library never decodes them.
 */
import { encodeCompactRecord, type CompactRecordParts } from '../../src/shared/compact-record.js';
import { RecordField, RecordOp, type RecordOpCode } from '../../src/shared/protocol.js';
import { encodeUtf8 } from '../../src/shared/utf8.js';
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

type RecordWriter = Pick<WriterContext, 'table' | 'mappings' | 'keyColumns'>;

/** A writer's table and column names as UTF-8, encoded once per writer rather than once per record. */
interface EncodedNames {
  readonly table: Uint8Array;
  readonly columns: ReadonlyMap<string, Uint8Array>;
  /** The mapped columns' names, in `mappings` order. */
  readonly mapped: readonly Uint8Array[];
}

const encodedNames = new WeakMap<RecordWriter, EncodedNames>();

/** An upsert of the row image: every mapped column, from its field's raw value or NULL when the field is absent. */
export function upsertRecord(writer: RecordWriter, header: RecordHeader, fields: ReadonlyMap<string, ArrayBuffer>): RecordArgs {
  const names = namesOf(writer);
  const mappings = writer.mappings;
  const columns: Array<readonly [Uint8Array, Uint8Array | null]> = new Array(mappings.length);
  for (let i = 0; i < mappings.length; i += 1) {
    const value = fields.get(mappings[i]![0]);
    columns[i] = [names.mapped[i]!, value === undefined ? null : new Uint8Array(value)];
  }
  return recordArgs(RecordOp.upsert, names, header, columns);
}

/** A delete of the row the key maps to. */
export function deleteRecord(writer: RecordWriter, header: RecordHeader): RecordArgs {
  return recordArgs(RecordOp.delete, namesOf(writer), header, []);
}

function recordArgs(op: RecordOpCode, names: EncodedNames, header: RecordHeader, columns: CompactRecordParts['columns']): RecordArgs {
  const record = encodeCompactRecord({
    op,
    key: encodeUtf8(header.key),
    table: names.table,
    ack: header.ack === null ? null : encodeUtf8(header.ack),
    keyValues: header.keyValues.map(([column, value]) => [names.columns.get(column) ?? encodeUtf8(column), encodeUtf8(value)] as const),
    columns,
  });
  return [RecordField.v2, record.buffer as ArrayBuffer];
}

function namesOf(writer: RecordWriter): EncodedNames {
  let names = encodedNames.get(writer);
  if (names === undefined) {
    const columns = new Map<string, Uint8Array>();
    for (const column of writer.keyColumns) columns.set(column, encodeUtf8(column));
    for (const [, column] of writer.mappings) columns.set(column, encodeUtf8(column));
    names = { table: encodeUtf8(writer.table), columns, mapped: writer.mappings.map(([, column]) => columns.get(column)!) };
    encodedNames.set(writer, names);
  }
  return names;
}
