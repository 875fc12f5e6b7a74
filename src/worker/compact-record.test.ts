import { describe, expect, it } from 'vitest';
import { encodeCompactRecord, type CompactRecordParts } from '../shared/compact-record.js';
import { parseCaptureEntry } from './capture-entry.js';
import { recordColumns, recordKeyValues } from './capture-record.js';

const utf8 = (text: string) => Buffer.from(text, 'utf8');

function v2Entry(parts: CompactRecordParts, id = '1-0') {
  return { id, fields: [['v2', Buffer.from(encodeCompactRecord(parts))] as const] };
}

const UPSERT: CompactRecordParts = {
  op: 'u',
  key: utf8('person:jörg'),
  table: utf8('persons'),
  ack: utf8('u-1'),
  keyValues: [[utf8('person_id'), utf8('jörg')]],
  columns: [[utf8('first'), new Uint8Array([0, 0xff, 0x0d, 0x0a])], [utf8('last'), null], [utf8('age'), utf8('42')]],
};

describe('record format 2 (v2) as the worker reads it', () => {
  it('gives the record a format-1 entry with the same parts', () => {
    const v2 = parseCaptureEntry(v2Entry(UPSERT));
    const v1 = parseCaptureEntry({
      id: '1-0',
      fields: [['op', utf8('u')], ['key', utf8('person:jörg')], ['table', utf8('persons')], ['ack', utf8('u-1')], ['k:person_id', utf8('jörg')], ['c:first', Buffer.from([0, 0xff, 0x0d, 0x0a])], ['c:age', utf8('42')], ['null', utf8('last')]],
    });
    if (!v2.ok || !v1.ok) throw new Error('both parse');
    for (const record of [v1.record, v2.record]) {
      expect({ op: record.op, key: record.key, table: record.table, ack: record.ack }).toEqual({ op: 'u', key: 'person:jörg', table: 'persons', ack: 'u-1' });
      expect(recordKeyValues(record).get('person_id')).toEqual(utf8('jörg'));
      expect(recordColumns(record).get('first')).toEqual(Buffer.from([0, 0xff, 0x0d, 0x0a]));
      expect(recordColumns(record).get('last')).toBeNull();
    }
    // The dead-letter form: readable fields a `dlq list` shows and `dlq replay` re-captures.
    expect(v2.record.entry.fields.map(([f, v]: readonly [string, Buffer]) => [f, v.toString('hex')])).toEqual(
      [['op', 'u'], ['key', 'person:jörg'], ['table', 'persons'], ['ack', 'u-1'], ['k:person_id', 'jörg'], ['c:first', '\0\xff\r\n'], ['c:age', '42'], ['null', 'last']].map(([f, v]) => [f, Buffer.from(v!, f === 'c:first' ? 'latin1' : 'utf8').toString('hex')]),
    );
  });

  it('dead-letters a truncated value or a second v2 field, with the raw entry', () => {
    const whole = Buffer.from(encodeCompactRecord(UPSERT));
    for (let cut = 0; cut < whole.length; cut += 7) {
      const parsed = parseCaptureEntry({ id: '1-0', fields: [['v2', whole.subarray(0, cut)]] });
      expect(parsed.ok, `cut at ${cut}`).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toMatch(/malformed v2 record/);
    }
    const twice = parseCaptureEntry({ id: '1-0', fields: [['v2', whole], ['v2', whole]] });
    expect(twice).toMatchObject({ ok: false, reason: /more than one 'v2'/ });
  });

  it('applies the format-1 rules: a delete has no columns, an upsert needs one', () => {
    const deleted = parseCaptureEntry(v2Entry({ ...UPSERT, op: 'd' }));
    expect(deleted.ok && recordColumns(deleted.record).size).toBe(0);
    expect(parseCaptureEntry(v2Entry({ ...UPSERT, columns: [] }))).toMatchObject({ ok: false, reason: /upsert with no columns/ });
    expect(parseCaptureEntry(v2Entry({ ...UPSERT, keyValues: [] }))).toMatchObject({ ok: false, reason: /no primary key/ });
    // Dead-lettered in format 1's fields, key and ack included (the ack is answered with the failure).
    const noKey = parseCaptureEntry(v2Entry({ ...UPSERT, keyValues: [] }));
    expect(!noKey.ok && noKey.entry.fields.map(([f, v]) => [f, v.toString('latin1')])).toEqual([
      ['op', 'u'], ['key', 'person:j\xc3\xb6rg'], ['table', 'persons'], ['ack', 'u-1'], ['c:first', '\0\xff\r\n'], ['c:age', '42'], ['null', 'last'],
    ]);
  });

  it('reads each record with its own names when shapes alternate, sharing one shape object per shape', () => {
    const other: CompactRecordParts = { ...UPSERT, table: utf8('people'), columns: [[utf8('first'), utf8('Ann')], [utf8('age'), null]] };
    const records = [UPSERT, other, UPSERT, { ...UPSERT, op: 'd' as const }].map((parts, i) => {
      const parsed = parseCaptureEntry(v2Entry(parts, `1-${i}`));
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.record;
    });
    expect(records.map((r) => [r.table, r.shape.columns, [...recordColumns(r)].map(([c, v]) => [c, v?.toString('hex') ?? null])])).toEqual([
      ['persons', ['first', 'last', 'age'], [['first', '00ff0d0a'], ['last', null], ['age', '3432']]],
      ['people', ['first', 'age'], [['first', '416e6e'], ['age', null]]],
      ['persons', ['first', 'last', 'age'], [['first', '00ff0d0a'], ['last', null], ['age', '3432']]],
      ['persons', [], []],
    ]);
    expect(records[0]!.shape).toBe(records[2]!.shape);
    expect(records.map((r) => r.text(0))).toEqual(['jörg', 'jörg', 'jörg', 'jörg']);
  });

  it('dead-letters a record that names a column twice', () => {
    const twice = parseCaptureEntry(v2Entry({ ...UPSERT, columns: [[utf8('first'), utf8('a')], [utf8('first'), utf8('b')]] }));
    expect(twice).toMatchObject({ ok: false, reason: /column 'first' is given twice/ });
  });
});
