/**
 * Streaming RESP2/RESP3 decoder. Feed it bytes as they arrive; it calls back once per complete top-level value,
 * with the exact bytes the value occupied (the proxy forwards those bytes unchanged).
 *
 * Two passes: framing finds where a value ends without building anything (a partial value's scan resumes where
 * it stopped when more bytes come), and only a complete frame is decoded. `RespFramer` stops after the
 * first pass: the proxy decodes a reply only when it needs to look inside (most replies are forwarded as bytes,
 * and decoding a 1000-entry XRANGE reply it never reads was most of its CPU).
 */
import type { RespValue } from './types.js';

const CR = 13;
const LF = 10;
/** Returned by the scan and parse functions when the buffer ends inside a value. */
const INCOMPLETE = -1;
/** Set by scanValue when it stops inside a bulk string: the buffer length that string needs. */
let neededHint = 0;
/** Values that need more than this many more bytes are collected chunk by chunk before scanning again. */
const LARGE_VALUE = 256 * 1024;

export class RespProtocolError extends Error {
  override name = 'RespProtocolError';
}

export interface RespDecoderOptions {
  /** Accept inline commands (`PING\r\n`, as typed into telnet) at the top level, as redis-server does. */
  inlineCommands?: boolean;
}

/** Splits a byte stream into complete top-level RESP values (the bytes of each), decoding nothing. */
/** Shared by every framer with nothing pending: a frame ends at a chunk's end most of the time. */
const EMPTY = Buffer.alloc(0);

export class RespFramer {
  #buffer: Buffer = EMPTY;
  /** While > 0: the bytes (from the start of #waiting) the value being received needs at least. */
  #needed = 0;
  #waiting: Buffer[] = [];
  #waitingBytes = 0;
  /** Where the scan of the partial value at the start of #buffer stopped (a 1000-entry reply spans many chunks). */
  #scan: ScanState | undefined;
  readonly #onFrame: (raw: Buffer) => void;
  readonly #inline: boolean;

  constructor(onFrame: (raw: Buffer) => void, options: RespDecoderOptions = {}) {
    this.#onFrame = onFrame;
    this.#inline = options.inlineCommands ?? false;
  }

  /** Bytes received but not yet part of a complete value. */
  get pendingBytes(): number {
    return this.#buffer.length + this.#waitingBytes;
  }

  push(chunk: Buffer): void {
    // A large bulk string arrives in many chunks: keep them aside until the value can be complete, instead of
    // concatenating and re-scanning on every chunk (quadratic in the value's size).
    if (this.#needed > 0) {
      this.#waiting.push(chunk);
      this.#waitingBytes += chunk.length;
      if (this.#waitingBytes < this.#needed) return;
      chunk = Buffer.concat(this.#waiting, this.#waitingBytes);
      this.#waiting = [];
      this.#waitingBytes = 0;
      this.#needed = 0;
      this.#buffer = chunk;
    } else {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    }
    let offset = 0;
    while (offset < this.#buffer.length) {
      neededHint = 0;
      const inline = this.#inline && !isTypeByte(this.#buffer[offset]!);
      const resume = offset === 0 ? this.#scan : undefined;
      this.#scan = undefined;
      const end = inline ? scanInline(this.#buffer, offset) : scanValue(this.#buffer, offset, resume);
      if (end === INCOMPLETE) {
        if (!inline) this.#scan = lastScan;
        if (neededHint - offset > LARGE_VALUE) {
          this.#needed = neededHint - offset;
          this.#waiting = [this.#buffer.subarray(offset)];
          this.#waitingBytes = this.#buffer.length - offset;
          this.#buffer = EMPTY;
          return;
        }
        break;
      }
      const raw = this.#buffer.subarray(offset, end);
      offset = end;
      this.#onFrame(raw);
    }
    this.#buffer = offset === this.#buffer.length ? EMPTY : this.#buffer.subarray(offset);
  }
}

/** The value of one complete frame (as RespFramer delivers them); inline commands become arrays of blobs. */
export function decodeFrame(raw: Buffer): RespValue {
  if (!isTypeByte(raw[0]!)) return parseInline(raw);
  return parseValue(raw, 0).value;
}

/** RespFramer plus decoding: one callback per complete value, decoded, with its bytes. */
export class RespDecoder {
  readonly #framer: RespFramer;

  constructor(onValue: (value: RespValue, raw: Buffer) => void, options: RespDecoderOptions = {}) {
    const inline = options.inlineCommands ?? false;
    this.#framer = new RespFramer((raw) => {
      const value = decodeFrame(raw);
      if (inline && value.type === 'array' && value.value.length === 0 && raw[0] !== 0x2a) return; // blank inline line
      onValue(value, raw);
    }, options);
  }

  /** Bytes received but not yet part of a complete value. */
  get pendingBytes(): number {
    return this.#framer.pendingBytes;
  }

  push(chunk: Buffer): void {
    this.#framer.push(chunk);
  }
}

const TYPE_BYTES = new Uint8Array(256);
for (const type of Buffer.from('+-:$*%~>_,#(=!|')) TYPE_BYTES[type] = 1;

function isTypeByte(byte: number): boolean {
  return TYPE_BYTES[byte] === 1;
}

function findLineEnd(buffer: Buffer, from: number): number {
  const cr = buffer.indexOf(CR, from);
  if (cr < 0 || cr + 1 >= buffer.length) return -1;
  if (buffer[cr + 1] !== LF) throw new RespProtocolError('expected \\n after \\r');
  return cr;
}

function scanInline(buffer: Buffer, offset: number): number {
  const lf = buffer.indexOf(LF, offset);
  if (lf < 0) {
    if (buffer.length - offset > 64 * 1024) throw new RespProtocolError('too big inline request');
    return INCOMPLETE;
  }
  return lf + 1;
}

/** An inline command line (complete, up to its \n) as an array of blobs. */
function parseInline(raw: Buffer): RespValue {
  const lf = raw.length - 1;
  const line = raw.toString('utf8', 0, raw[lf - 1] === CR ? lf - 1 : lf).trim();
  const words = line.length === 0 ? [] : line.split(/\s+/);
  return { type: 'array', value: words.map((w) => ({ type: 'blob', value: Buffer.from(w) })) };
}

/** The text of the line of the item at `start`, after its type byte. */
function lineText(buffer: Buffer, start: number, lineEnd: number): string {
  return buffer.toString('utf8', start + 1, lineEnd);
}

/** The integer on the line [from, to), read from the bytes (no string built). */
function lineInteger(buffer: Buffer, from: number, to: number): number {
  let negative = false;
  let i = from;
  if (buffer[i] === 0x2d) {
    negative = true;
    i += 1;
  }
  if (i === to) throw new RespProtocolError('expected a length');
  let n = 0;
  for (; i < to; i++) {
    const digit = buffer[i]! - 0x30;
    if (digit < 0 || digit > 9) throw new RespProtocolError('invalid length');
    n = n * 10 + digit;
  }
  return negative ? -n : n;
}

/** Where an incomplete scan stopped: at an item boundary, `position` bytes after the value's start. */
interface ScanState {
  readonly open: number[];
  readonly remaining: number;
  readonly position: number;
}

/** Set by scanValue when it returns INCOMPLETE. */
let lastScan: ScanState | undefined;

/**
 * Where the value starting at `offset` ends, or INCOMPLETE (then `lastScan` says where to resume); builds
 * nothing. Iterative, not recursive: a reply may be nested thousands deep (a Lua table that contains itself is
 * returned ~8000 levels deep).
 */
function scanValue(buffer: Buffer, offset: number, resume?: ScanState): number {
  /** Values still to scan at each open level, outermost first; the current level's count is `remaining`. */
  // Allocated at the first aggregate: most frames (the replies of single commands) have none.
  let open: number[] | undefined = resume?.open;
  let remaining = resume?.remaining ?? 1;
  let position = offset + (resume?.position ?? 0);
  for (;;) {
    if (position >= buffer.length) return scanStopped(open, remaining, position - offset);
    const type = buffer[position]!;
    const lineEnd = findLineEnd(buffer, position + 1);
    if (lineEnd < 0) return scanStopped(open, remaining, position - offset);
    const next = lineEnd + 2;
    switch (type) {
      case 0x2b: case 0x2d: case 0x3a: case 0x5f: case 0x2c: case 0x23: case 0x28:
        position = next;
        remaining--;
        break;
      case 0x24: case 0x21: case 0x3d: {
        const length = lineInteger(buffer, position + 1, lineEnd);
        const end = length < 0 ? next : next + length + 2;
        if (buffer.length < end) {
          neededHint = end;
          return scanStopped(open, remaining, position - offset);
        }
        position = end;
        remaining--;
        break;
      }
      case 0x2a: case 0x7e: case 0x3e: case 0x25: case 0x7c: {
        const count = lineInteger(buffer, position + 1, lineEnd);
        // A map or an attribute holds count pairs. An attribute does not fill its slot: the value after it does.
        const items = count < 0 ? 0 : type === 0x25 || type === 0x7c ? count * 2 : count;
        position = next;
        if (type !== 0x7c) remaining--;
        if (items > 0) {
          (open ??= []).push(remaining);
          remaining = items;
        }
        break;
      }
      default:
        throw new RespProtocolError(`unknown RESP type byte ${JSON.stringify(String.fromCharCode(type))}`);
    }
    while (remaining === 0) {
      if (open === undefined || open.length === 0) return position;
      remaining = open.pop()!;
    }
  }
}

function scanStopped(open: number[] | undefined, remaining: number, position: number): number {
  lastScan = { open: open ?? [], remaining, position };
  return INCOMPLETE;
}

/** An aggregate being decoded: its items so far and how many it still needs. */
interface OpenAggregate {
  readonly type: number;
  readonly items: RespValue[];
  remaining: number;
}

/** Decodes the value at `offset` of a complete frame (framing has checked that every byte is there); iterative. */
function parseValue(buffer: Buffer, offset: number): { value: RespValue; end: number } {
  const open: OpenAggregate[] = [];
  let position = offset;
  for (;;) {
    const type = buffer[position]!;
    const lineEnd = findLineEnd(buffer, position + 1);
    const start = position;
    const next = lineEnd + 2;
    let value: RespValue | undefined;
    position = next;
    switch (type) {
      case 0x2b: // + simple string
        value = { type: 'simple', value: lineText(buffer, start, lineEnd) };
        break;
      case 0x2d: // - error
        value = { type: 'error', value: lineText(buffer, start, lineEnd) };
        break;
      case 0x3a: // : integer
        value = { type: 'integer', value: BigInt(lineText(buffer, start, lineEnd)) };
        break;
      case 0x5f: // _ null
        value = { type: 'null' };
        break;
      case 0x2c: // , double
        value = { type: 'double', value: parseDouble(lineText(buffer, start, lineEnd)) };
        break;
      case 0x23: // # boolean
        value = { type: 'boolean', value: lineText(buffer, start, lineEnd) === 't' };
        break;
      case 0x28: // ( big number
        value = { type: 'bignum', value: lineText(buffer, start, lineEnd) };
        break;
      case 0x24: // $ blob string
      case 0x21: // ! blob error
      case 0x3d: { // = verbatim string
        const length = lineInteger(buffer, start + 1, lineEnd);
        if (length < 0) {
          value = { type: 'null' };
          break;
        }
        const bytes = Buffer.from(buffer.subarray(next, next + length));
        position = next + length + 2;
        if (type === 0x21) value = { type: 'error', value: bytes.toString('utf8') };
        else if (type === 0x3d) value = { type: 'verbatim', format: bytes.toString('utf8', 0, 3), value: bytes.subarray(4) };
        else value = { type: 'blob', value: bytes };
        break;
      }
      default: { // * array, ~ set, > push, % map, | attribute (scanValue admits no other type byte)
        const count = lineInteger(buffer, start + 1, lineEnd);
        if (count < 0) {
          value = { type: 'null' };
          break;
        }
        const items = type === 0x25 || type === 0x7c ? count * 2 : count;
        if (items > 0) {
          open.push({ type, items: [], remaining: items });
          continue;
        }
        if (type === 0x7c) continue; // an empty attribute: the value after it is what counts
        value = aggregate(type, []);
      }
    }
    // Place the value in the aggregates it completes, innermost first.
    for (;;) {
      const parent = open[open.length - 1];
      if (parent === undefined) return { value, end: position };
      parent.items.push(value);
      if (--parent.remaining > 0) break;
      open.pop();
      if (parent.type === 0x7c) break; // an attribute is skipped: the value after it takes its place
      value = aggregate(parent.type, parent.items);
    }
  }
}

function aggregate(type: number, items: RespValue[]): RespValue {
  switch (type) {
    case 0x25: {
      const entries: [RespValue, RespValue][] = [];
      for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
      return { type: 'map', value: entries };
    }
    case 0x7e:
      return { type: 'set', value: items };
    case 0x3e:
      return { type: 'push', value: items };
    default:
      return { type: 'array', value: items };
  }
}

function parseDouble(text: string): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan') return NaN;
  return Number(text);
}
