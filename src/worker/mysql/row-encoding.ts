/**
 * One record's values as statement parameters, checked against the columns they go to: raw bytes for binary
 * columns, UTF-8 text for the others, each text checked by column-value.ts (a key id must be canonical, a
 * number must fit without rounding). Also how many bytes the row puts on the wire, for statement chunking and
 * for the server's packet limit.
 *
 * @internal
 */
import type { CaptureRecord } from '../capture-record.js';
import type { RecordShape } from '../record-shape.js';
import { columnValueCheck, type ValueCheck } from './column-value.js';
import { findColumn, type TableSchema } from './table-schema.js';

/**
 * What the statements need of one record shape, checked against the table's schema once instead of for every
 * record: records of one writer almost all share one shape.
 */
export interface RowShape {
  /** Key columns, then the other columns, each in the table's column order. */
  readonly keyColumns: readonly string[];
  readonly columns: readonly string[];
  /** Per column of [...keyColumns, ...columns]: the index of its value in the record. */
  readonly source: readonly number[];
  /** Per column of [...keyColumns, ...columns]: the column takes raw bytes. */
  readonly binary: readonly boolean[];
  /** Per column of [...keyColumns, ...columns]: the check of its text, if its type needs one. */
  readonly checks: readonly (ValueCheck | undefined)[];
  /** Statement group of an upsert and of a delete of this shape. */
  readonly upsertGroup: string;
  readonly deleteGroup: string;
}

/** What a row puts on the wire, for statement chunking and for the server's packet limit. */
export interface RowSize {
  /** Bytes of the row in a text statement: binary values travel as hex there (twice their size). */
  readonly textBytes: number;
  /** Bytes of the row as prepared-statement parameters: every value raw, plus its length prefix. */
  readonly rawBytes: number;
}

export interface RowRefusal {
  readonly column: string;
  readonly reason: string;
}

/** Quotes, comma and the hex prefix around a value in a text statement; length prefix in a binary one. */
const VALUE_OVERHEAD = 9;

export function rowShape(schema: TableSchema, record: RecordShape): RowShape {
  const names = [...record.keyColumns, ...record.columns];
  const keyColumns = orderByTable(schema, record.keyColumns);
  const columns = orderByTable(schema, record.columns);
  const all = [...keyColumns, ...columns];
  return {
    keyColumns,
    columns,
    source: all.map((column) => names.indexOf(column)),
    binary: all.map((column) => findColumn(schema, column)?.binary === true),
    checks: all.map((column, i) => {
      const type = findColumn(schema, column);
      return type === undefined || type.binary ? undefined : columnValueCheck(type, i < keyColumns.length ? 'key' : 'value');
    }),
    upsertGroup: `${record.table}|${keyColumns.join(',')}|${columns.join(',')}`,
    deleteGroup: `${record.table}|${keyColumns.join(',')}|`,
  };
}

/** encodeRow's sizes of the row it encoded (reused: one object, not one per row). */
export const encodedSize = { textBytes: 0, rawBytes: 0 };

/**
 * Appends the record's parameters to `out` in the shape's column order (key columns only for a delete), each
 * decoded straight from the record's bytes; the row's sizes are left in `encodedSize`. Returns why the row
 * cannot be written instead (having appended nothing).
 */
export function encodeRow(shape: RowShape, record: CaptureRecord, keysOnly: boolean, out: unknown[]): RowRefusal | null {
  const { keyColumns, columns, source } = shape;
  const width = keysOnly ? keyColumns.length : keyColumns.length + columns.length;
  const start = out.length;
  let textBytes = 0;
  let rawBytes = 0;
  for (let i = 0; i < width; i++) {
    const index = source[i]!;
    const size = record.byteLength(index);
    textBytes += VALUE_OVERHEAD;
    rawBytes += VALUE_OVERHEAD;
    if (size < 0) {
      out.push(null);
      continue;
    }
    rawBytes += size;
    if (shape.binary[i] === true) {
      out.push(record.value(index));
      textBytes += 2 * size;
      continue;
    }
    const text = record.text(index);
    const isKey = i < keyColumns.length;
    const column = isKey ? keyColumns[i]! : columns[i - keyColumns.length]!;
    if (typeof text !== 'string') {
      out.length = start;
      return { column, reason: `value of column '${column}' is not valid UTF-8 and the column is not binary` };
    }
    const problem = shape.checks[i]?.(text);
    if (problem !== undefined) {
      out.length = start;
      return { column, reason: `${isKey ? 'key column' : 'column'} '${column}': ${problem}` };
    }
    out.push(text);
    textBytes += size;
  }
  encodedSize.textBytes = textBytes;
  encodedSize.rawBytes = rawBytes;
  return null;
}

/** Columns in the table's ordinal order, so equal column sets produce identical statements. */
function orderByTable(schema: TableSchema, columns: readonly string[]): string[] {
  const order = [...schema.columns.keys()];
  return [...columns].sort((a, b) => order.indexOf(a.toLowerCase()) - order.indexOf(b.toLowerCase()));
}
