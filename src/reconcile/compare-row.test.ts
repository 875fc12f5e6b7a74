import { describe, expect, it } from 'vitest';
import type { ColumnSchema, TableSchema } from '../worker/mysql/table-schema.js';
import { compareRow } from './compare-row.js';
import type { WriterTarget } from './writer-target.js';

const target = { mappings: [['n', 'n'], ['d', 'd'], ['f', 'f'], ['c', 'c'], ['b', 'b'], ['t', 't']] } as unknown as WriterTarget;
const column = (name: string, dataType: string): ColumnSchema => ({ name, dataType, unsigned: false, precision: null, scale: 2, binary: dataType === 'varbinary', nullable: true, required: false });
const schema: TableSchema = {
  table: 't',
  columns: new Map([['n', column('n', 'int')], ['d', column('d', 'decimal')], ['f', column('f', 'float')], ['c', column('c', 'char')], ['b', column('b', 'varbinary')], ['t', column('t', 'varchar')]]),
  uniqueKeys: [],
};
const image = (fields: Record<string, string | Buffer | null>) => new Map(Object.entries(fields).map(([k, v]) => [k, v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v)]));
const row = (columns: Record<string, unknown>) => ({ keyValues: ['1'], columns: new Map(Object.entries(columns)) });

describe('compareRow', () => {
  it('compares numbers by value, FLOAT to its precision, CHAR without trailing spaces, bytes exactly', () => {
    const hash = image({ n: '42.0', d: '1.5', f: '3.14159', c: 'ab  ', b: Buffer.from([0, 255]), t: 'x' });
    expect(compareRow(target, schema, hash, row({ n: 42, d: '1.50', f: 3.14159012, c: 'ab', b: Buffer.from([0, 255]), t: 'x' }))).toEqual({ kind: 'equal' });
  });

  it('names each differing column with both values; NULL differs from a value', () => {
    const hash = image({ n: '7', d: null, f: '1', c: 'a', b: Buffer.from([1]), t: 'X' });
    expect(compareRow(target, schema, hash, row({ n: -7, d: '0.00', f: 1, c: 'a', b: Buffer.from([2]), t: 'x' }))).toEqual({
      kind: 'stale',
      columns: [
        { column: 'n', redis: '7', mysql: '-7' },
        { column: 'd', redis: null, mysql: '0.00' },
        { column: 'b', redis: '\u0001', mysql: '\u0002' },
        { column: 't', redis: 'X', mysql: 'x' },
      ],
    });
  });

  it('tells binary values apart by their bytes even when they decode to the same text, shown in hex when not UTF-8', () => {
    const hash = image({ n: '1', d: '1', f: '1', c: 'a', b: Buffer.from([0xff, 0x41]), t: 'x' });
    const equalRow = { n: 1, d: '1', f: 1, c: 'a', t: 'x' };
    expect(compareRow(target, schema, hash, row({ ...equalRow, b: Buffer.from([0xff, 0x41]) }))).toEqual({ kind: 'equal' });
    expect(compareRow(target, schema, hash, row({ ...equalRow, b: Buffer.from([0xfe, 0x41]) }))).toEqual({
      kind: 'stale',
      columns: [{ column: 'b', redis: '0xff41', mysql: '0xfe41' }],
    });
  });

  it('a hash without a row is missing, a row without a hash an orphan, neither is equal', () => {
    expect(compareRow(target, schema, image({}), undefined)).toEqual({ kind: 'missing' });
    expect(compareRow(target, schema, null, row({}))).toEqual({ kind: 'orphan' });
    expect(compareRow(target, schema, null, undefined)).toEqual({ kind: 'equal' });
  });
});
