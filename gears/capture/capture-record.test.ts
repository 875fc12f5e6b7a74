import { describe, expect, it } from 'vitest';
import { deleteRecord, upsertRecord, type RecordArgs } from './capture-record.js';

const writer = { table: 'persons', keyColumns: ['person_id'], mappings: [['first_name', 'first'], ['last_name', 'last'], ['age', 'age']] as const };
const bytes = (text: string) => new Uint8Array([...text].map((c) => c.charCodeAt(0))).buffer;

/** Record format 2 written out by hand from its documented layout (src/shared/compact-record.ts). */
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const part = (value: string | number[]) => {
  const raw = typeof value === 'string' ? [...new TextEncoderLike(value)] : value;
  return [...u32(raw.length), ...raw];
};
const NULL = u32(0xffffffff);

/** UTF-8 of a string without TextEncoder (not in the gears typings). */
class TextEncoderLike {
  constructor(readonly text: string) {}
  *[Symbol.iterator]() {
    for (const char of this.text) {
      const code = char.codePointAt(0)!;
      if (code < 0x80) yield code;
      else if (code < 0x800) yield* [0xc0 | (code >> 6), 0x80 | (code & 0x3f)];
      else if (code < 0x10000) yield* [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
      else yield* [0xf0 | (code >> 18), 0x80 | ((code >> 12) & 0x3f), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
    }
  }
}

function v2Bytes(args: RecordArgs): number[] {
  expect(args).toHaveLength(2);
  expect(args[0]).toBe('v2');
  return [...new Uint8Array(args[1] as ArrayBuffer)];
}

describe('upsertRecord', () => {
  it('writes one v2 field carrying the row image: mapped fields renamed to columns, absent ones NULL, unmapped ones dropped', () => {
    const fields = new Map([['first_name', bytes('James')], ['age', bytes('42')], ['nickname', bytes('007')]]);
    const record = upsertRecord(writer, { key: 'person:007', keyValues: [['person_id', '007']], ack: null }, fields);
    expect(v2Bytes(record)).toEqual([
      0x75, ...part('person:007'), ...part('persons'), ...part(''),
      1, ...part('person_id'), ...part('007'),
      0, 3, ...part('first'), ...part('James'), ...part('last'), ...NULL, ...part('age'), ...part('42'),
    ]);
  });

  it('keeps values binary-safe and carries the ack uuid and non-ASCII keys as UTF-8', () => {
    const raw = [0, 0xff, 0x0d, 0x0a, 0x24, 0xc3];
    const fields = new Map([['first_name', new Uint8Array(raw).buffer], ['last_name', bytes('b')], ['age', bytes('1')]]);
    const record = upsertRecord(writer, { key: 'person:jörg😀', keyValues: [['person_id', 'jörg😀']], ack: 'u-1' }, fields);
    expect(v2Bytes(record)).toEqual([
      0x75, ...part('person:jörg😀'), ...part('persons'), ...part('u-1'),
      1, ...part('person_id'), ...part('jörg😀'),
      0, 3, ...part('first'), ...part(raw), ...part('last'), ...part('b'), ...part('age'), ...part('1'),
    ]);
  });
});

describe('deleteRecord', () => {
  it('names the row by its key columns only', () => {
    const record = deleteRecord({ ...writer, keyColumns: ['customer_id', 'order_id'] }, { key: 'order:7:1', keyValues: [['customer_id', '7'], ['order_id', '1']], ack: 'x' });
    expect(v2Bytes(record)).toEqual([0x64, ...part('order:7:1'), ...part('persons'), ...part('x'), 2, ...part('customer_id'), ...part('7'), ...part('order_id'), ...part('1'), 0, 0]);
  });
});
