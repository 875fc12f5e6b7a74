/**
 * The worker's reader of record format 2 (one field `v2`, layout in src/shared/compact-record.ts). A record is
 * read into offsets, not values: its value spans go into a shared Int32Array, its names are matched byte by
 * byte against the previous record's shape (record-shape.ts), and key, ack and values are decoded only when
 * asked for, straight from the bytes. So a record of a known shape costs one object and its id, whatever its
 * width. The rules are format 1's (capture-record.ts), with the same messages.
 *
 * @internal
 */
import { COMPACT_NULL_LENGTH } from '../shared/compact-record.js';
import { RecordField, RecordOp, type RecordOpCode } from '../shared/protocol.js';
import { formatOneEntry, MALFORMED, utf8Text, type CaptureRecord } from './capture-record.js';
import { internShape, type RecordShape } from './record-shape.js';
import type { StreamEntry } from './redis/stream-entry.js';

/** Where records put their value spans: (start, length) pairs, length -1 for NULL. Grows by new blocks, so a record's block never moves. */
export class SpanArena {
  #block = new Int32Array(SPAN_BLOCK);
  #used = 0;

  /** A block with room for `n` more numbers, and where they start. */
  take(n: number): { block: Int32Array; base: number } {
    if (this.#used + n > this.#block.length) {
      this.#block = new Int32Array(Math.max(SPAN_BLOCK, n));
      this.#used = 0;
    }
    taken.block = this.#block;
    taken.base = this.#used;
    this.#used += n;
    return taken;
  }
}

/** Numbers per block: 8 values of 1024 records. */
const SPAN_BLOCK = 16384;
/** take()'s answer, reused (the reader is synchronous). */
const taken = { block: new Int32Array(0), base: 0 };

/** Read position and end of the value being read (module state: the reader is synchronous and not re-entrant). */
let bytes: Buffer;
let at = 0;
let end = 0;
/** The shape of the last record read: the next one most likely has it too. */
let lastShape: RecordShape | undefined;

function fits(n: number): boolean {
  return at + n <= end;
}

/** The record in buffer[from, from+length), or why it is malformed. */
export function readCompactRecord(id: string, buffer: Buffer, from: number, length: number, arena: SpanArena): CaptureRecord | string {
  bytes = buffer;
  const read = readRecord(id, buffer, from, length, arena);
  bytes = EMPTY; // the reader holds no page once done
  return read;
}

const EMPTY = Buffer.alloc(0);

function readRecord(id: string, buffer: Buffer, from: number, length: number, arena: SpanArena): CaptureRecord | string {
  end = from + length;
  at = from;
  if (!fits(1)) return 'malformed v2 record: empty';
  const opByte = buffer[at]!;
  at += 1;
  const keySize = sizedPart();
  const keyAt = at - Math.max(0, keySize);
  const tableSize = keySize < 0 ? -1 : sizedPart();
  const tableAt = at - Math.max(0, tableSize);
  const ackSize = tableSize < 0 ? -1 : sizedPart();
  const ackAt = at - Math.max(0, ackSize);
  if (ackSize < 0) return 'malformed v2 record: truncated header';
  if (!fits(1)) return 'malformed v2 record: truncated key columns';
  const keyCount = buffer[at]!;
  at += 1;
  const keysAt = at;
  // Structure first, without names: spans are written once the shape is known.
  for (let i = 0; i < keyCount; i++) {
    if (!skipBytes() || !skipBytes()) return 'malformed v2 record: truncated key columns';
  }
  if (!fits(2)) return 'malformed v2 record: truncated columns';
  const columnCount = (buffer[at]! << 8) | buffer[at + 1]!;
  at += 2;
  const columnsAt = at;
  for (let i = 0; i < columnCount; i++) {
    if (!skipBytes()) return 'malformed v2 record: truncated columns';
    if (!fits(4)) return 'malformed v2 record: truncated columns';
    const size = u32(buffer, at);
    at += 4;
    if (size === COMPACT_NULL_LENGTH) continue;
    if (!fits(size)) return 'malformed v2 record: truncated columns';
    at += size;
  }
  if (at !== end) return 'malformed v2 record: bytes after the last column';

  const op = opByte === 0x75 ? RecordOp.upsert : opByte === 0x64 ? RecordOp.delete : undefined;
  if (op === undefined) return `${MALFORMED}op '${String.fromCharCode(opByte)}' is neither 'u' nor 'd'`;
  if (keySize === 0) return `${MALFORMED}no '${RecordField.key}' field`;
  if (tableSize === 0) return `${MALFORMED}no '${RecordField.table}' field`;
  if (keyCount === 0) return `${MALFORMED}no primary key field (k:<column>)`;
  if (op === RecordOp.upsert && columnCount === 0) return `${MALFORMED}an upsert with no columns`;
  // A delete's columns, if any, are ignored (format 1's rule).
  const width = op === RecordOp.delete ? keyCount : keyCount + columnCount;
  let shape = lastShape;
  if (shape === undefined || !sameShape(buffer, shape, tableAt, tableSize, keysAt, keyCount, columnsAt, width - keyCount)) {
    const found = shapeOf(buffer, tableAt, tableSize, keysAt, keyCount, columnsAt, width - keyCount);
    if (typeof found === 'string') return found;
    shape = lastShape = found;
  }
  const { block, base } = arena.take(2 * width);
  at = keysAt;
  for (let i = 0; i < keyCount; i++) {
    skipBytes();
    span(buffer, block, base + 2 * i);
  }
  at = columnsAt;
  for (let i = keyCount; i < width; i++) {
    skipBytes();
    span(buffer, block, base + 2 * i);
  }
  return new CompactRecord(id, op, shape, buffer, block, base, keyAt, keySize, ackAt, ackSize);
}

/** Moves past one (length, bytes); false when they do not fit. */
function skipBytes(): boolean {
  return sizedPart() >= 0;
}

/** The length of the (length, bytes) at `at`, having moved past them; -1 when they do not fit. */
function sizedPart(): number {
  if (!fits(4)) return -1;
  const size = u32(bytes, at);
  at += 4;
  if (!fits(size)) return -1;
  at += size;
  return size;
}

/** Records the value at `at` (length, bytes; or the NULL length) into block[index, index+2) and moves past it. */
function span(buffer: Buffer, block: Int32Array, index: number): void {
  const size = u32(buffer, at);
  at += 4;
  if (size === COMPACT_NULL_LENGTH) {
    block[index] = at;
    block[index + 1] = -1;
    return;
  }
  block[index] = at;
  block[index + 1] = size;
  at += size;
}

/** True when the record's table and names are `shape`'s, compared as bytes. */
function sameShape(buffer: Buffer, shape: RecordShape, tableAt: number, tableSize: number, keysAt: number, keyCount: number, columnsAt: number, columnCount: number): boolean {
  if (shape.keyColumns.length !== keyCount || shape.columns.length !== columnCount) return false;
  if (!sameBytes(buffer, tableAt, tableSize, shape.tableBytes)) return false;
  const names = shape.nameBytes;
  at = keysAt;
  for (let i = 0; i < keyCount; i++) {
    const size = u32(buffer, at);
    if (!sameBytes(buffer, at + 4, size, names[i]!)) return false;
    at += 4 + size;
    at += 4 + u32(buffer, at);
  }
  at = columnsAt;
  for (let i = 0; i < columnCount; i++) {
    const size = u32(buffer, at);
    if (!sameBytes(buffer, at + 4, size, names[keyCount + i]!)) return false;
    at += 4 + size;
    const valueSize = u32(buffer, at);
    at += valueSize === COMPACT_NULL_LENGTH ? 4 : 4 + valueSize;
  }
  return true;
}

/** The record's shape from its names as text (a shape not seen just before). */
function shapeOf(buffer: Buffer, tableAt: number, tableSize: number, keysAt: number, keyCount: number, columnsAt: number, columnCount: number): RecordShape | string {
  const table = buffer.toString('utf8', tableAt, tableAt + tableSize);
  const keys: string[] = [];
  const columns: string[] = [];
  at = keysAt;
  for (let i = 0; i < keyCount; i++) {
    const size = u32(buffer, at);
    keys.push(buffer.toString('utf8', at + 4, at + 4 + size));
    at += 4 + size;
    at += 4 + u32(buffer, at);
  }
  at = columnsAt;
  for (let i = 0; i < columnCount; i++) {
    const size = u32(buffer, at);
    columns.push(buffer.toString('utf8', at + 4, at + 4 + size));
    at += 4 + size;
    const valueSize = u32(buffer, at);
    at += valueSize === COMPACT_NULL_LENGTH ? 4 : 4 + valueSize;
  }
  return internShape(table, keys, columns);
}

function sameBytes(buffer: Buffer, from: number, length: number, name: Buffer): boolean {
  if (length !== name.length) return false;
  for (let i = 0; i < length; i++) if (buffer[from + i] !== name[i]) return false;
  return true;
}

/** The 4-byte big-endian length at `offset` (callers checked it fits). */
function u32(buffer: Buffer, offset: number): number {
  return ((buffer[offset]! << 24) | (buffer[offset + 1]! << 16) | (buffer[offset + 2]! << 8) | buffer[offset + 3]!) >>> 0;
}

/** A format-2 record: offsets into the bytes it was read from (a page's reply: it keeps them alive). */
class CompactRecord implements CaptureRecord {
  #entry: StreamEntry | undefined;

  constructor(
    readonly id: string,
    readonly op: RecordOpCode,
    readonly shape: RecordShape,
    readonly bytes: Buffer,
    readonly spans: Int32Array,
    readonly base: number,
    readonly keyAt: number,
    readonly keySize: number,
    readonly ackAt: number,
    readonly ackSize: number,
  ) {}

  get table(): string {
    return this.shape.table;
  }

  get key(): string {
    return this.bytes.toString('utf8', this.keyAt, this.keyAt + this.keySize);
  }

  get ack(): string | undefined {
    return this.ackSize === 0 ? undefined : this.bytes.toString('utf8', this.ackAt, this.ackAt + this.ackSize);
  }

  byteLength(i: number): number {
    return this.spans[this.base + 2 * i + 1]!;
  }

  value(i: number): Buffer | null {
    const start = this.spans[this.base + 2 * i]!;
    const size = this.spans[this.base + 2 * i + 1]!;
    return size < 0 ? null : this.bytes.subarray(start, start + size);
  }

  text(i: number): string | null | undefined {
    const start = this.spans[this.base + 2 * i]!;
    const size = this.spans[this.base + 2 * i + 1]!;
    return size < 0 ? null : utf8Text(this.bytes, start, start + size);
  }

  latin1(i: number): string {
    const start = this.spans[this.base + 2 * i]!;
    return this.bytes.toString('latin1', start, start + Math.max(0, this.spans[this.base + 2 * i + 1]!));
  }

  /** The record in format 1's fields (values copied: a dead letter outlives the page), which `dlq list` shows readably. */
  get entry(): StreamEntry {
    this.#entry ??= formatOneEntry(this);
    return this.#entry;
  }
}

/**
 * The dead letter's entry of a format-2 record that breaks a rule (no key, no primary key, a column named
 * twice...): format 1's fields when its structure can be read, so `dlq list` shows it readably and its ack is
 * answered with the failure; null when even the structure is broken (the caller keeps the raw entry).
 */
export function compactDeadLetterEntry(id: string, buffer: Buffer, from: number, length: number): StreamEntry | null {
  bytes = buffer;
  end = from + length;
  at = from;
  try {
    if (!fits(1)) return null;
    const fields: Array<readonly [string, Buffer]> = [[RecordField.op, buffer.subarray(at, at + 1)]];
    at += 1;
    for (const name of [RecordField.key, RecordField.table, RecordField.ack]) {
      const size = sizedPart();
      if (size < 0) return null;
      if (size > 0) fields.push([name, buffer.subarray(at - size, at)]);
    }
    if (!fits(1)) return null;
    const keyCount = buffer[at]!;
    at += 1;
    for (let i = 0; i < keyCount; i++) {
      const nameSize = sizedPart();
      const valueSize = nameSize < 0 ? -1 : sizedPart();
      if (valueSize < 0) return null;
      fields.push([`${RecordField.keyColumnPrefix}${buffer.toString('utf8', at - valueSize - 4 - nameSize, at - valueSize - 4)}`, buffer.subarray(at - valueSize, at)]);
    }
    if (!fits(2)) return null;
    const columnCount = (buffer[at]! << 8) | buffer[at + 1]!;
    at += 2;
    const nulls: string[] = [];
    for (let i = 0; i < columnCount; i++) {
      const nameSize = sizedPart();
      if (nameSize < 0 || !fits(4)) return null;
      const name = buffer.toString('utf8', at - nameSize, at);
      if (u32(buffer, at) === COMPACT_NULL_LENGTH) {
        at += 4;
        nulls.push(name);
        continue;
      }
      const valueSize = sizedPart();
      if (valueSize < 0) return null;
      fields.push([`${RecordField.columnPrefix}${name}`, buffer.subarray(at - valueSize, at)]);
    }
    if (nulls.length > 0) fields.push([RecordField.nulls, Buffer.from(nulls.join(','), 'utf8')]);
    // Copied: a dead letter outlives the page.
    return { id, fields: fields.map(([name, value]) => [name, Buffer.from(value)] as const) };
  } finally {
    bytes = EMPTY;
  }
}
