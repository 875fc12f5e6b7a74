/**
 * One hash against its row, column by column. A value is compared as the column holds it: numbers of integer
 * and DECIMAL columns by exact value (`42` = `42.0` = `4.2e1`), FLOAT/DOUBLE by value, binary columns byte for
 * byte, CHAR without its trailing spaces (MySQL pads and strips them), everything else as the text MySQL
 * returns (`dateStrings`, so DATE/DATETIME are their text too). A differing binary value that is not valid
 * UTF-8 is shown as `0x<hex>`: as text, `ff 41` and `fe 41` would both read "\uFFFDA".
 */
import { isUtf8 } from 'node:buffer';
import { parseDecimal } from '../worker/mysql/column-value.js';
import { findColumn, type ColumnSchema, type TableSchema } from '../worker/mysql/table-schema.js';
import type { HashImage } from './reconcile-redis.js';
import type { TargetRow } from './reconcile-mysql.js';
import type { WriterTarget } from './writer-target.js';

export interface ColumnDifference {
  readonly column: string;
  /** The hash field's value as text, `0x<hex>` for a binary column's value that is not UTF-8 (null: field absent). */
  readonly redis: string | null;
  /** The row's value as text, `0x<hex>` for a binary column's value that is not UTF-8 (null: NULL). */
  readonly mysql: string | null;
}

export type Comparison =
  | { readonly kind: 'equal' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'orphan' }
  | { readonly kind: 'stale'; readonly columns: readonly ColumnDifference[] };

const INTEGER_OR_DECIMAL = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric']);
const FLOATING = new Set(['float', 'double', 'real']);

/** `image`: the hash now (null: no hash, 'not-hash': another type, never compared); `row`: its row or undefined. */
export function compareRow(target: WriterTarget, schema: TableSchema, image: HashImage, row: TargetRow | undefined): Comparison {
  const hash = image === 'not-hash' ? null : image;
  if (hash === null) return row === undefined ? { kind: 'equal' } : { kind: 'orphan' };
  if (row === undefined) return { kind: 'missing' };
  const columns: ColumnDifference[] = [];
  for (const [field, column] of target.mappings) {
    const value = hash.get(field) ?? null;
    const stored = row.columns.get(column) ?? null;
    const type = findColumn(schema, column);
    if (!sameValue(type, value, stored)) columns.push({ column, redis: shown(type, value), mysql: shown(type, stored) });
  }
  return columns.length === 0 ? { kind: 'equal' } : { kind: 'stale', columns };
}

function sameValue(type: ColumnSchema | undefined, value: Buffer | null, stored: unknown): boolean {
  if (value === null || stored === null) return value === null && stored === null;
  if (Buffer.isBuffer(stored)) return stored.equals(value);
  const text = value.toString('utf8');
  const storedText = textOf(stored)!;
  const dataType = type?.dataType ?? '';
  if (INTEGER_OR_DECIMAL.has(dataType)) {
    const [a, b] = [parseDecimal(text), parseDecimal(storedText)];
    return a !== undefined && b !== undefined && a.integer === b.integer && a.fraction === b.fraction && (a.negative === b.negative || (a.integer === 0n && a.fraction === ''));
  }
  if (FLOATING.has(dataType)) {
    const [a, b] = [Number(text), Number(storedText)];
    // FLOAT keeps ~7 significant digits: the value read back is the nearest single-precision number.
    return dataType === 'float' ? Math.abs(a - b) <= Math.abs(a) * 1e-6 : a === b;
  }
  if (dataType === 'char') return text.replace(/ +$/, '') === storedText;
  return text === storedText;
}

/** A value of a difference as the report shows it. */
function shown(type: ColumnSchema | undefined, value: unknown): string | null {
  if (type?.binary === true && Buffer.isBuffer(value) && !isUtf8(value)) return `0x${value.toString('hex')}`;
  return textOf(value);
}

function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return String(value);
}
