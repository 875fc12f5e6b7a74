/**
 * One record's values as statement parameters, checked against the columns they go to: raw bytes for binary
 * columns, UTF-8 text for the others, each text checked by column-value.ts (a key id must be canonical, a
 * number must fit without rounding). Also how many bytes the row puts on the wire, for statement chunking and
 * for the server's packet limit.
 *
 * @internal
 */
import type { CaptureRecord } from '../capture-record.js';
import { columnValueCheck, type ValueCheck } from './column-value.js';
import { findColumn, type TableSchema } from './table-schema.js';

/**
 * What the statements need of one record shape (table, key column names, column names), checked against the
 * table's schema once instead of for every record: records of one writer almost all share one shape.
 */
export interface RowShape {
  /** Key columns, then the other columns, each in the table's column order. */
  readonly keyColumns: readonly string[];
  readonly columns: readonly string[];
  /** Per column of [...keyColumns, ...columns]: the column takes raw bytes. */
  readonly binary: readonly boolean[];
  /** Per column of [...keyColumns, ...columns]: the check of its text, if its type needs one. */
  readonly checks: readonly (ValueCheck | undefined)[];
  /** Statement group of an upsert and of a delete of this shape. */
  readonly upsertGroup: string;
  readonly deleteGroup: string;
}

export interface EncodedRow {
  readonly values: readonly unknown[];
  /** Bytes of the row in a text statement: binary values travel as hex there (twice their size). */
  readonly textBytes: number;
  /** Bytes of the row as prepared-statement parameters: every value raw, plus its length prefix. */
  readonly rawBytes: number;
}

export type RowEncoding = { readonly ok: true; readonly row: EncodedRow } | { readonly ok: false; readonly column: string; readonly reason: string };

/** Quotes, comma and the hex prefix around a value in a text statement; length prefix in a binary one. */
const VALUE_OVERHEAD = 9;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function rowShape(schema: TableSchema, table: string, keyNames: readonly string[], columnNames: readonly string[]): RowShape {
  const keyColumns = orderByTable(schema, keyNames);
  const columns = orderByTable(schema, columnNames);
  const all = [...keyColumns, ...columns];
  return {
    keyColumns,
    columns,
    binary: all.map((column) => findColumn(schema, column)?.binary === true),
    checks: all.map((column, i) => {
      const type = findColumn(schema, column);
      return type === undefined || type.binary ? undefined : columnValueCheck(type, i < keyColumns.length ? 'key' : 'value');
    }),
    upsertGroup: `${table}|${keyColumns.join(',')}|${columns.join(',')}`,
    deleteGroup: `${table}|${keyColumns.join(',')}|`,
  };
}

/** The record's parameters in the shape's column order (key columns only for a delete), or why it cannot be written. */
export function encodeRow(shape: RowShape, record: CaptureRecord, keysOnly: boolean): RowEncoding {
  const { keyColumns, columns } = shape;
  const width = keysOnly ? keyColumns.length : keyColumns.length + columns.length;
  const values: unknown[] = new Array(width);
  let textBytes = 0;
  let rawBytes = 0;
  for (let i = 0; i < width; i++) {
    const isKey = i < keyColumns.length;
    const column = isKey ? keyColumns[i]! : columns[i - keyColumns.length]!;
    const raw = record.keyValues.get(column) ?? record.columns.get(column) ?? null;
    textBytes += VALUE_OVERHEAD;
    rawBytes += VALUE_OVERHEAD;
    if (raw === null) {
      values[i] = null;
      continue;
    }
    rawBytes += raw.length;
    if (shape.binary[i] === true) {
      values[i] = raw;
      textBytes += 2 * raw.length;
      continue;
    }
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      return { ok: false, column, reason: `value of column '${column}' is not valid UTF-8 and the column is not binary` };
    }
    const problem = shape.checks[i]?.(text);
    if (problem !== undefined) return { ok: false, column, reason: `${isKey ? 'key column' : 'column'} '${column}': ${problem}` };
    values[i] = text;
    textBytes += raw.length;
  }
  return { ok: true, row: { values, textBytes, rawBytes } };
}

/** Columns in the table's ordinal order, so equal column sets produce identical statements. */
function orderByTable(schema: TableSchema, columns: readonly string[]): string[] {
  const order = [...schema.columns.keys()];
  return [...columns].sort((a, b) => order.indexOf(a.toLowerCase()) - order.indexOf(b.toLowerCase()));
}
