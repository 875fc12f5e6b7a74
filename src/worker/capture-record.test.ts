import { describe, expect, it } from 'vitest';
import { parseCaptureEntry } from './capture-record.js';

const entry = (fields: Array<[string, string | Buffer]>) => ({ id: '1-1', fields: fields.map(([f, v]) => [f, Buffer.from(v)] as const) });

describe('parseCaptureEntry', () => {
  it('parses an upsert with key columns, values, NULLs and an ack', () => {
    const parsed = parseCaptureEntry(entry([['op', 'u'], ['key', 'person:1'], ['table', 'persons'], ['ack', 'u1'], ['k:person_id', '1'], ['c:first', 'James'], ['null', 'last,age']]));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.record).toMatchObject({ id: '1-1', op: 'u', key: 'person:1', table: 'persons', ack: 'u1' });
    expect([...parsed.record.keyValues].map(([c, v]) => [c, v.toString()])).toEqual([['person_id', '1']]);
    expect([...parsed.record.columns].map(([c, v]) => [c, v?.toString() ?? null])).toEqual([['first', 'James'], ['last', null], ['age', null]]);
  });

  it('keeps binary values as bytes', () => {
    const bytes = Buffer.from([0, 0xff, 0x80]);
    const parsed = parseCaptureEntry(entry([['op', 'u'], ['key', 'b:1'], ['table', 't'], ['k:id', '1'], ['c:data', bytes]]));
    expect(parsed.ok && parsed.record.columns.get('data')).toEqual(bytes);
  });

  it('drops columns from deletes and ignores unknown fields', () => {
    const parsed = parseCaptureEntry(entry([['op', 'd'], ['key', 'p:1'], ['table', 't'], ['k:id', '1'], ['c:x', 'y'], ['future', 'z']]));
    expect(parsed.ok && parsed.record.columns.size).toBe(0);
  });

  it.each([
    [[['op', 'x'], ['key', 'k'], ['table', 't'], ['k:id', '1']], "op 'x'"],
    [[['op', 'u'], ['table', 't'], ['k:id', '1'], ['c:a', 'b']], "no 'key'"],
    [[['op', 'u'], ['key', 'k'], ['k:id', '1'], ['c:a', 'b']], "no 'table'"],
    [[['op', 'u'], ['key', 'k'], ['table', 't'], ['c:a', 'b']], 'no primary key'],
    [[['op', 'u'], ['key', 'k'], ['table', 't'], ['k:id', '1']], 'no columns'],
    [[['op', 'u'], ['key', 'k'], ['table', 't'], ['k:id', '1'], ['c:a', 'b'], ['null', 'a']], 'both set and listed as NULL'],
  ] as Array<[Array<[string, string]>, string]>)('rejects a malformed record (%#)', (fields, reason) => {
    const parsed = parseCaptureEntry(entry(fields));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain(reason);
  });
});
