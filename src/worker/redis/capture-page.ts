/**
 * The hot path's parser: an XRANGE reply of capture records (one complete RESP2 frame) read straight into
 * records, without decoding it into generic values first. Names are matched on their bytes; values become
 * views of the frame (no copy); the entry as a StreamEntry is built only if a dead letter asks for it. The
 * rules are checkCaptureRecord's, shared with parseCaptureEntry.
 *
 * @internal
 */
import { RecordField } from '../../shared/protocol.js';
import { RedisCommandError } from '../../shared/errors.js';
import { checkCaptureRecord, emptyRecordFields, readV2Field, type CaptureRecord, type RecordFields } from '../capture-record.js';
import { emptyNameCache } from '../compact-record.js';
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
const K = 0x6b;
const C = 0x63;
const COLON = 0x3a;
const V = 0x76;
const TWO = 0x32;

/** Position in the frame being parsed (module state: the parser is synchronous and not re-entrant). */
let at = 0;

export function parseCapturePage(frame: Buffer): CapturePage {
  at = 0;
  const records: CaptureRecord[] = [];
  const unparsable: Unparsable[] = [];
  const count = arrayHeader(frame);
  let lastId: string | undefined;
  let bytes = 0;
  let largestEntry = 0;
  /** The previous record's table: records of one writer name the same one, so it is built once. */
  let table: string | undefined;
  /** Column names by field position, from the records before: they repeat, so each is built once. */
  const names: string[] = [];
  /** The same for format-2 records. */
  const v2Names = emptyNameCache();
  for (let i = 0; i < count; i++) {
    const entryStart = at;
    if (arrayHeader(frame) !== 2) throw protocolError('an entry is not [id, fields]');
    const id = bulkString(frame);
    const pairs = arrayHeader(frame);
    const fieldsStart = at;
    const fields = emptyRecordFields();
    for (let p = 0; p + 1 < pairs; p += 2) {
      const nameLength = bulkHeader(frame);
      const name = at;
      at += nameLength + 2;
      const valueLength = bulkHeader(frame);
      const value = at;
      at += valueLength + 2;
      readField(frame, p >> 1, name, nameLength, value, valueLength, fields);
      if (fields.table !== undefined && fields.table !== table) table = fields.table;
    }
    if (pairs % 2 === 1) skipBulk(frame);
    const fieldsEnd = at;
    const size = at - entryStart;
    bytes += size;
    if (size > largestEntry) largestEntry = size;
    lastId = id;
    const parsed = checkCaptureRecord(id, fields, () => decodeEntry(frame, id, pairs, fieldsStart, fieldsEnd));
    if (parsed.ok) records.push(parsed.record);
    else unparsable.push(parsed);
  }
  return { records, unparsable, entries: count, lastId, bytes, largestEntry };

  function readField(buffer: Buffer, position: number, name: number, nameLength: number, value: number, valueLength: number, out: RecordFields): void {
    const first = buffer[name];
    if (nameLength === 2 && first === V && buffer[name + 1] === TWO) readV2Field(buffer, value, valueLength, out, v2Names);
    else if (nameLength > 2 && buffer[name + 1] === COLON && (first === K || first === C)) {
      const known = names[position];
      const column = known !== undefined && isUtf8(buffer, name + 2, nameLength - 2, known) ? known : (names[position] = buffer.toString('utf8', name + 2, name + nameLength));
      const bytes = buffer.subarray(value, value + valueLength);
      if (first === K) out.keyValues.set(column, bytes);
      else out.columns.set(column, bytes);
    } else if (is(buffer, name, nameLength, RecordField.op)) out.op = buffer.toString('latin1', value, value + valueLength);
    else if (is(buffer, name, nameLength, RecordField.key)) out.key = buffer.toString('utf8', value, value + valueLength);
    else if (is(buffer, name, nameLength, RecordField.table)) out.table = table !== undefined && is(buffer, value, valueLength, table) ? table : buffer.toString('utf8', value, value + valueLength);
    else if (is(buffer, name, nameLength, RecordField.ack)) out.ack = buffer.toString('utf8', value, value + valueLength);
    else if (is(buffer, name, nameLength, RecordField.nulls)) out.nulls = buffer.toString('utf8', value, value + valueLength);
    // Unknown fields are ignored, so a newer library can add fields without stalling an older worker.
  }
}

/** True when buffer[from, from+length) holds the ASCII text `text`. */
function is(buffer: Buffer, from: number, length: number, text: string): boolean {
  if (length !== text.length) return false;
  for (let i = 0; i < length; i++) if (buffer[from + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** True when buffer[from, from+length) is the UTF-8 of `text` (compared as bytes: a column name may be any text). */
function isUtf8(buffer: Buffer, from: number, length: number, text: string): boolean {
  if (length !== text.length) return false; // a non-ASCII name differs in length and is simply built again
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f || buffer[from + i] !== code) return false;
  }
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
  at += bulkHeader(buffer) + 2;
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
