/**
 * The worker's reader of record format 2 (one field `v2`, layout in src/shared/compact-record.ts): the value's
 * bytes read into the same RecordFields the format-1 parsers fill, so checkCaptureRecord applies one set of
 * rules to both formats. Values become views of the buffer (no copy); names repeat from record to record, so
 * the caller's NameCache builds each once.
 *
 * @internal
 */
import { COMPACT_NULL_LENGTH } from '../shared/compact-record.js';
import type { RecordFields } from './capture-record.js';

/** Names seen in earlier records, by position: a page of one writer repeats them. */
export interface NameCache {
  table: string | undefined;
  readonly keyColumns: string[];
  readonly columns: string[];
}

export function emptyNameCache(): NameCache {
  return { table: undefined, keyColumns: [], columns: [] };
}

/** Read position and end of the value being read (module state: the reader is synchronous and not re-entrant). */
let at = 0;
let end = 0;

function fits(n: number): boolean {
  return at + n <= end;
}

/** Fills `out` from buffer[from, from+length); returns why the value is malformed, or null. */
export function readCompactRecord(buffer: Buffer, from: number, length: number, out: RecordFields, names: NameCache): string | null {
  end = from + length;
  at = from;
  if (!fits(1)) return 'malformed v2 record: empty';
  out.op = buffer[at] === 0x75 ? 'u' : buffer[at] === 0x64 ? 'd' : String.fromCharCode(buffer[at]!);
  at += 1;
  for (let part = 0; part < 3; part++) {
    if (!fits(4)) return 'malformed v2 record: truncated header';
    const size = u32(buffer, at);
    at += 4;
    if (!fits(size)) return 'malformed v2 record: truncated header';
    if (part === 0) out.key = buffer.toString('utf8', at, at + size);
    else if (part === 1) out.table = names.table !== undefined && sameText(buffer, at, size, names.table) ? names.table : (names.table = buffer.toString('utf8', at, at + size));
    else if (size > 0) out.ack = buffer.toString('utf8', at, at + size);
    at += size;
  }
  if (!fits(1)) return 'malformed v2 record: truncated key columns';
  const keyCount = buffer[at]!;
  at += 1;
  for (let i = 0; i < keyCount; i++) {
    const name = readName(buffer, names.keyColumns, i);
    if (name === null) return 'malformed v2 record: truncated key columns';
    if (!fits(4)) return 'malformed v2 record: truncated key columns';
    const size = u32(buffer, at);
    at += 4;
    if (!fits(size)) return 'malformed v2 record: truncated key columns';
    out.keyValues.set(name, buffer.subarray(at, at + size));
    at += size;
  }
  if (!fits(2)) return 'malformed v2 record: truncated columns';
  const columnCount = ((buffer[at]! << 8) | buffer[at + 1]!);
  at += 2;
  for (let i = 0; i < columnCount; i++) {
    const name = readName(buffer, names.columns, i);
    if (name === null || !fits(4)) return 'malformed v2 record: truncated columns';
    const size = u32(buffer, at);
    at += 4;
    if (size === COMPACT_NULL_LENGTH) {
      out.columns.set(name, null);
      continue;
    }
    if (!fits(size)) return 'malformed v2 record: truncated columns';
    out.columns.set(name, buffer.subarray(at, at + size));
    at += size;
  }
  if (at !== end) return 'malformed v2 record: bytes after the last column';
  return null;
}

function readName(buffer: Buffer, known: string[], index: number): string | null {
  if (!fits(4)) return null;
  const size = u32(buffer, at);
  at += 4;
  if (!fits(size)) return null;
  const seen = known[index];
  const name = seen !== undefined && sameText(buffer, at, size, seen) ? seen : (known[index] = buffer.toString('utf8', at, at + size));
  at += size;
  return name;
}

/** The 4-byte big-endian length at `offset` (callers checked it fits; Buffer.readUInt32BE checks again). */
function u32(buffer: Buffer, offset: number): number {
  return ((buffer[offset]! << 24) | (buffer[offset + 1]! << 16) | (buffer[offset + 2]! << 8) | buffer[offset + 3]!) >>> 0;
}

/** True when buffer[from, from+length) is the UTF-8 of `text`, compared as bytes (a non-ASCII name is just built again). */
function sameText(buffer: Buffer, from: number, length: number, text: string): boolean {
  if (length !== text.length) return false;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f || buffer[from + i] !== code) return false;
  }
  return true;
}
