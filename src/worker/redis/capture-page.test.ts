import { describe, expect, it } from 'vitest';
import { RespFramer } from '../../runtime/resp/decoder.js';
import { encodeCompactRecord } from '../../shared/compact-record.js';
import { parseCaptureEntry } from '../capture-entry.js';
import { recordColumns, recordKeyValues, type CaptureRecord } from '../capture-record.js';
import type { StreamEntry } from './stream-entry.js';
import { parseCapturePage } from './capture-page.js';

/** An XRANGE reply as redis-server writes it. */
function xrangeReply(entries: readonly StreamEntry[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${entries.length}\r\n`)];
  const bulk = (b: Buffer) => parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  for (const entry of entries) {
    parts.push(Buffer.from(`*2\r\n`));
    bulk(Buffer.from(entry.id));
    parts.push(Buffer.from(`*${entry.fields.length * 2}\r\n`));
    for (const [name, value] of entry.fields) {
      bulk(Buffer.from(name));
      bulk(value);
    }
  }
  return Buffer.concat(parts);
}

const entry = (id: string, fields: Array<[string, string | Buffer]>): StreamEntry => ({ id, fields: fields.map(([f, v]) => [f, Buffer.from(v)] as const) });

const V2 = Buffer.from(
  encodeCompactRecord({ op: 'u', key: Buffer.from('person:2'), table: Buffer.from('persons'), ack: null, keyValues: [[Buffer.from('person_id'), Buffer.from('2')]], columns: [[Buffer.from('first'), Buffer.from([0, 0x0d, 0x0a])], [Buffer.from('last'), null]] }),
);

const ENTRIES: StreamEntry[] = [
  entry('1-1', [['op', 'u'], ['key', 'person:1'], ['table', 'persons'], ['ack', 'u1'], ['k:person_id', '1'], ['c:first', 'Jämes\r\n'], ['null', 'last,age']]),
  entry('1-2', [['op', 'u'], ['key', 'b:1'], ['table', 'persons'], ['k:id', '1'], ['c:data', Buffer.from([0, 0xff, 0x0d, 0x0a, 0x24])], ['future', 'z']]),
  entry('2-0', [['op', 'd'], ['key', 'p:1'], ['table', 'other'], ['k:a', '1'], ['k:b', '2'], ['c:x', 'y']]),
  entry('3-0', [['op', 'x'], ['key', 'k'], ['table', 't'], ['k:id', '1']]),
  entry('4-0', [['op', 'u'], ['key', 'k'], ['table', 't'], ['k:id', '1'], ['c:a', 'b'], ['null', 'a']]),
  entry('5-0', []),
  // Record format 2 beside format 1 in one page (a backlog spanning a library upgrade), then a truncated one.
  entry('6-0', [['v2', V2]]),
  entry('6-1', [['v2', V2]]),
  entry('7-0', [['v2', V2.subarray(0, 20)]]),
];

/** What a record holds, comparable with toEqual. */
function plain(r: CaptureRecord) {
  return { id: r.id, op: r.op, key: r.key, table: r.table, ack: r.ack, keyValues: [...recordKeyValues(r)].map(([c, v]) => [c, v.toString('hex')]), columns: [...recordColumns(r)].map(([c, v]) => [c, v?.toString('hex') ?? null]), entry: r.entry.fields.map(([f, v]) => [f, v.toString('hex')]) };
}

describe('parseCapturePage', () => {
  it('reads an XRANGE reply into the records and dead letters parseCaptureEntry makes of the same entries', () => {
    const page = parseCapturePage(xrangeReply(ENTRIES));
    const expected = ENTRIES.map(parseCaptureEntry);
    expect(page.records.map(plain)).toEqual(expected.flatMap((p) => (p.ok ? [plain(p.record)] : [])));
    expect(page.unparsable.map((u) => [u.entry.id, u.reason, u.entry.fields.length])).toEqual(expected.flatMap((p) => (p.ok ? [] : [[p.entry.id, p.reason, p.entry.fields.length]])));
    expect(page.entries).toBe(ENTRIES.length);
    expect(page.lastId).toBe('7-0');
    expect(page.records.map((r) => r.id)).toEqual(['1-1', '1-2', '2-0', '6-0', '6-1']);
    expect(page.unparsable.map((u) => u.reason)).toEqual([expect.stringContaining("op 'x'"), expect.stringContaining('both set and listed as NULL'), expect.stringContaining("op ''"), expect.stringContaining('malformed v2 record')]);
  });

  it('counts the bytes of the entries and of the largest', () => {
    const page = parseCapturePage(xrangeReply(ENTRIES.slice(0, 2)));
    const sizes = ENTRIES.slice(0, 2).map((e) => xrangeReply([e]).length - 4); // minus the outer "*1\r\n"
    expect(page.bytes).toBe(sizes[0]! + sizes[1]!);
    expect(page.largestEntry).toBe(Math.max(...sizes));
  });

  it('gives an empty page for an empty reply', () => {
    expect(parseCapturePage(Buffer.from('*0\r\n'))).toMatchObject({ records: [], unparsable: [], entries: 0, lastId: undefined, bytes: 0 });
  });

  it('reads the same records from a reply framed byte by byte', () => {
    const reply = xrangeReply(ENTRIES);
    const frames: Buffer[] = [];
    const framer = new RespFramer((frame) => frames.push(Buffer.from(frame)));
    for (let i = 0; i < reply.length; i++) framer.push(reply.subarray(i, i + 1));
    expect(frames).toHaveLength(1);
    expect(parseCapturePage(frames[0]!).records.map(plain)).toEqual(parseCapturePage(reply).records.map(plain));
  });

  it('keeps a dead letter\'s values after the page\'s bytes are reused', () => {
    const reply = xrangeReply([ENTRIES[3]!]);
    const page = parseCapturePage(reply);
    const letter = page.unparsable[0]!;
    reply.fill(0);
    expect(letter.entry.fields.map(([f, v]) => [f, v.toString()])).toEqual([['op', 'x'], ['key', 'k'], ['table', 't'], ['k:id', '1']]);
  });

  it('refuses a reply that is not a list of entries', () => {
    expect(() => parseCapturePage(Buffer.from(':1\r\n'))).toThrow(/malformed/);
    expect(() => parseCapturePage(Buffer.from('*1\r\n*3\r\n'))).toThrow(/malformed/);
  });
});
