import { describe, expect, it } from 'vitest';
import { deleteRecord, upsertRecord } from './capture-record.js';

const writer = { table: 'persons', mappings: [['first_name', 'first'], ['last_name', 'last'], ['age', 'age']] as const };
const bytes = (text: string) => new Uint8Array([...text].map((c) => c.charCodeAt(0))).buffer;

describe('upsertRecord', () => {
  it('carries the row image: mapped fields renamed to columns, absent ones listed as NULL, unmapped ones dropped', () => {
    const first = bytes('James');
    const age = bytes('42');
    const fields = new Map([['first_name', first], ['age', age], ['nickname', bytes('007')]]);
    const record = upsertRecord(writer, { key: 'person:007', keyValues: [['person_id', '007']], ack: null }, fields);
    expect(record).toEqual(['op', 'u', 'key', 'person:007', 'table', 'persons', 'k:person_id', '007', 'c:first', first, 'c:age', age, 'null', 'last']);
    // Values are passed through untouched, not copied or decoded.
    expect(record[9]).toBe(first);
  });

  it('has no null field when every mapped field is present, and carries the ack uuid', () => {
    const fields = new Map([['first_name', bytes('a')], ['last_name', bytes('b')], ['age', bytes('1')]]);
    const record = upsertRecord(writer, { key: 'person:1', keyValues: [['person_id', '1']], ack: 'u-1' }, fields);
    expect(record.slice(0, 10)).toEqual(['op', 'u', 'key', 'person:1', 'table', 'persons', 'ack', 'u-1', 'k:person_id', '1']);
    expect(record).not.toContain('null');
  });
});

describe('deleteRecord', () => {
  it('names the row by its key columns only', () => {
    expect(deleteRecord(writer, { key: 'order:7:1', keyValues: [['customer_id', '7'], ['order_id', '1']], ack: 'x' })).toEqual(['op', 'd', 'key', 'order:7:1', 'table', 'persons', 'ack', 'x', 'k:customer_id', '7', 'k:order_id', '1']);
  });
});
