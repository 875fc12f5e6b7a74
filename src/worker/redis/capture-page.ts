/**
 * The hot path's parser: an XRANGE reply of capture records (one complete RESP2 frame) read straight into
 * records, without decoding it into generic values first. A format-2 entry (one field `v2`) becomes a record
 * of offsets into the frame (compact-record.ts: nothing is copied or decoded until the writer asks); any other
 * entry, format 1 or one with fields a newer library added, is decoded and read by parseCaptureEntry, under
 * the same rules.
 *
 * @internal
 */
import { RecordField } from '../../shared/protocol.js';
import { RedisCommandError } from '../../shared/errors.js';
import type { CaptureRecord } from '../capture-record.js';
import { parseCaptureEntry } from '../capture-entry.js';
import { compactDeadLetterEntry, readCompactRecord, SpanArena } from '../compact-record.js';
import type { StreamEntry } from './stream-entry.js';

export interface Unparsable {
  readonly entry: StreamEntry;
  readonly reason: string;
}

/** One XRANGE page, parsed. */
export interface CapturePage {
  readonly records: CaptureRecord[];
  readonly unparsable: Unparsable[];
  /** Entries in the page (records and unparsable). */
  readonly entries: number;
  /** Id of the page's last entry; undefined when it is empty. */
  readonly lastId: string | undefined;
  /** Bytes of all entries, and of the largest (ids, names and values: what the reply carried). */
  readonly bytes: number;
  readonly largestEntry: number;
}

const CR = 13;
const STAR = 0x2a;
const DOLLAR = 0x24;
const V2 = RecordField.v2;

/** Position in the frame being parsed (module state: the parser is synchronous and not re-entrant). */
let at = 0;

export function parseCapturePage(frame: Buffer): CapturePage {
  at = 0;
  const records: CaptureRecord[] = [];
  const unparsable: Unparsable[] = [];
  const count = arrayHeader(frame);
  const arena = new SpanArena();
  let lastId: string | undefined;
  let bytes = 0;
  let largestEntry = 0;
  for (let i = 0; i < count; i++) {
    const entryStart = at;
    if (arrayHeader(frame) !== 2) throw protocolError('an entry is not [id, fields]');
    const id = bulkString(frame);
    const pairs = arrayHeader(frame);
    const fieldsStart = at;
    let compact = false;
    let value = 0;
    let valueLength = 0;
    if (pairs === 2) {
      const nameLength = bulkHeader(frame);
      compact = is(frame, at, nameLength, V2);
      at += nameLength + 2;
      valueLength = bulkHeader(frame);
      value = at;
      at += valueLength + 2;
    } else for (let p = 0; p < pairs; p++) skipBulk(frame);
    const size = at - entryStart;
    bytes += size;
    if (size > largestEntry) largestEntry = size;
    lastId = id;
    if (compact) {
      const read = readCompactRecord(id, frame, value, valueLength, arena);
      if (typeof read !== 'string') records.push(read);
      else unparsable.push({ entry: compactDeadLetterEntry(id, frame, value, valueLength) ?? decodeEntry(frame, id, pairs, fieldsStart, at), reason: read });
      continue;
    }
    const parsed = parseCaptureEntry(decodeEntry(frame, id, pairs, fieldsStart, at));
    if (parsed.ok) records.push(parsed.record);
    else unparsable.push(parsed);
  }
  return { records, unparsable, entries: count, lastId, bytes, largestEntry };
}

/** True when buffer[from, from+length) holds the ASCII text `text`. */
function is(buffer: Buffer, from: number, length: number, text: string): boolean {
  if (length !== text.length) return false;
  for (let i = 0; i < length; i++) if (buffer[from + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** `*<n>\r\n`: n (a null array counts as 0). */
function arrayHeader(buffer: Buffer): number {
  if (buffer[at] !== STAR) throw protocolError(`expected an array at byte ${at}`);
  return lineNumber(buffer);
}

/** `$<n>\r\n`: n; `at` moves to the string's first byte. */
function bulkHeader(buffer: Buffer): number {
  if (buffer[at] !== DOLLAR) throw protocolError(`expected a bulk string at byte ${at}`);
  const length = lineNumber(buffer);
  if (length < 0 || at + length + 2 > buffer.length) throw protocolError('a bulk string is null or truncated');
  return length;
}

function bulkString(buffer: Buffer): string {
  const length = bulkHeader(buffer);
  const text = buffer.toString('latin1', at, at + length);
  at += length + 2;
  return text;
}

function skipBulk(buffer: Buffer): void {
  const length = bulkHeader(buffer); // moves `at`: read it after
  at += length + 2;
}

/** The integer after the type byte at `at`, up to CRLF; moves `at` past the line. */
function lineNumber(buffer: Buffer): number {
  let i = at + 1;
  let negative = false;
  if (buffer[i] === 0x2d) {
    negative = true;
    i++;
  }
  let n = 0;
  for (let byte = buffer[i]; byte !== CR; byte = buffer[++i]) {
    if (byte === undefined || byte < 0x30 || byte > 0x39) throw protocolError(`bad length at byte ${at}`);
    n = n * 10 + (byte - 0x30);
  }
  at = i + 2;
  return negative ? -n : n;
}

/** The entry's fields as a StreamEntry (names as text, values copied: a dead letter outlives the page). */
function decodeEntry(frame: Buffer, id: string, pairs: number, from: number, to: number): StreamEntry {
  const saved = at;
  at = from;
  const fields: Array<readonly [string, Buffer]> = [];
  for (let p = 0; p + 1 < pairs && at < to; p += 2) {
    const nameLength = bulkHeader(frame);
    const name = frame.toString('utf8', at, at + nameLength);
    at += nameLength + 2;
    const valueLength = bulkHeader(frame);
    fields.push([name, Buffer.from(frame.subarray(at, at + valueLength))]);
    at += valueLength + 2;
  }
  at = saved;
  return { id, fields };
}

function protocolError(what: string): RedisCommandError {
  return new RedisCommandError(`XRANGE reply of capture records is malformed: ${what}`, { context: { command: 'XRANGE' } });
}
