import { describe, expect, it } from 'vitest';
import type { CaptureRecord } from './capture-record.js';
import { parseCaptureEntry } from './capture-entry.js';
import { coalesceRecords } from './coalesce.js';

function record(id: string, op: 'u' | 'd', table: string, keys: Record<string, string>): CaptureRecord {
  const fields: Array<[string, Buffer]> = [['op', Buffer.from(op)], ['key', Buffer.from('k')], ['table', Buffer.from(table)]];
  for (const [c, v] of Object.entries(keys)) fields.push([`k:${c}`, Buffer.from(v)]);
  if (op === 'u') fields.push(['c:v', Buffer.from(id)]);
  const parsed = parseCaptureEntry({ id, fields });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.record;
}

describe('coalesceRecords', () => {
  it('keeps the last change per (table, key), deletes included, in first-seen order', () => {
    const changes = coalesceRecords([
      record('1-1', 'u', 't', { id: '1' }),
      record('1-2', 'u', 't', { id: '2' }),
      record('1-3', 'd', 't', { id: '1' }),
      record('1-4', 'u', 'other', { id: '1' }),
      record('1-5', 'u', 't', { id: '2' }),
    ]);
    expect(changes.map((c) => [c.record.id, c.superseded.map((s) => s.id)])).toEqual([
      ['1-3', ['1-1']],
      ['1-5', ['1-2']],
      ['1-4', []],
    ]);
  });

  it('tells composite keys apart regardless of column order and separators in values', () => {
    const changes = coalesceRecords([
      record('1-1', 'u', 't', { a: 'x', b: 'y:z' }),
      record('1-2', 'u', 't', { b: 'y:z', a: 'x' }),
      record('1-3', 'u', 't', { a: 'x:y', b: 'z' }),
    ]);
    expect(changes.map((c) => c.record.id)).toEqual(['1-2', '1-3']);
  });

  it('tells composite keys apart when a value holds the separator of the parts', () => {
    const changes = coalesceRecords([
      record('1-1', 'u', 't', { a: '1\u0000b=2', b: '3' }),
      record('1-2', 'u', 't', { a: '1', b: '2\u0000b=3' }),
    ]);
    expect(changes.map((c) => c.record.id)).toEqual(['1-1', '1-2']);
  });
});
