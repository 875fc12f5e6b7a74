import { describe, expect, it } from 'vitest';
import { parseCaptureEntry } from './capture-entry.js';
import { recordColumns, recordKeyValues } from './capture-record.js';

const entry = (fields: Array<[string, string | Buffer]>) => ({ id: '1-1', fields: fields.map(([f, v]) => [f, Buffer.from(v)] as const) });

describe('parseCaptureEntry', () => {
  it('parses an upsert with key columns, values, NULLs and an ack', () => {
    const parsed = parseCaptureEntry(entry([['op', 'u'], ['key', 'person:1'], ['table', 'persons'], ['ack', 'u1'], ['k:person_id', '1'], ['c:first', 'James'], ['null', 'last,age']]));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.record).toMatchObject({ id: '1-1', op: 'u', key: 'person:1', table: 'persons', ack: 'u1' });
    expect([...recordKeyValues(parsed.record)].map(([c, v]) => [c, v.toString()])).toEqual([['person_id', '1']]);
    expect([...recordColumns(parsed.record)].map(([c, v]) => [c, v?.toString() ?? null])).toEqual([['first', 'James'], ['last', null], ['age', null]]);
  });

  it('keeps binary values as bytes', () => {
    const bytes = Buffer.from([0, 0xff, 0x80]);
    const parsed = parseCaptureEntry(entry([['op', 'u'], ['key', 'b:1'], ['table', 't'], ['k:id', '1'], ['c:data', bytes]]));
    expect(parsed.ok && recordColumns(parsed.record).get('data')).toEqual(bytes);
  });

  it('drops columns from deletes and ignores unknown fields', () => {
    const parsed = parseCaptureEntry(entry([['op', 'd'], ['key', 'p:1'], ['table', 't'], ['k:id', '1'], ['c:x', 'y'], ['future', 'z']]));
    expect(parsed.ok && recordColumns(parsed.record).size).toBe(0);
  });

  it.each([
    [[['op', 'x'], ['key', 'k'], ['table', 't'], ['k:id', '1']], "op 'x'"],
    [[['op', 'u'], ['table', 't'], ['k:id', '1'], ['c:a', 'b']], "no 'key'"],
    [[['op', 'u'], ['key', 'k'], ['k:id', '1'], ['c:a', 'b']], "no 'table'"],
    [[['op', 'u'], ['key', 'k'], ['table', 't'], ['c:a', 'b']], 'no primary key'],
    [[['op', 'u'], ['key', 'k'], ['table', 't'], ['k:id', '1']], 'no columns'],
    [[['op', 'u'], ['key', 'k'], ['table', 't'], ['k:id', '1'], ['c:a', 'b'], ['null', 'a']], 'both set and listed as NULL'],
    [[['op', 'u'], ['key', 'k'], ['table', 't'], ['k:id', '1'], ['c:id', 'b']], "column 'id' is given twice"],
  ] as Array<[Array<[string, string]>, string]>)('rejects a malformed record (%#)', (fields, reason) => {
    const parsed = parseCaptureEntry(entry(fields));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain(reason);
  });

  it('gives records of one shape the same shape object, and values by position', () => {
    const a = parseCaptureEntry(entry([['op', 'u'], ['key', 'p:1'], ['table', 't'], ['k:id', '1'], ['c:x', 'jörg'], ['null', 'y']]));
    const b = parseCaptureEntry(entry([['op', 'u'], ['key', 'p:2'], ['table', 't'], ['k:id', '2'], ['c:x', Buffer.from([0xff])], ['null', 'y']]));
    if (!a.ok || !b.ok) throw new Error('both parse');
    expect(a.record.shape).toBe(b.record.shape);
    expect(a.record.shape).toMatchObject({ table: 't', keyColumns: ['id'], columns: ['x', 'y'] });
    expect([a.record.text(0), a.record.text(1), a.record.text(2)]).toEqual(['1', 'jörg', null]);
    expect([a.record.byteLength(1), a.record.byteLength(2)]).toEqual([5, -1]);
    expect(b.record.text(1)).toBeUndefined(); // not UTF-8
    expect(b.record.latin1(1)).toBe('\xff');
  });
});
