/**
 * Streaming RESP2/RESP3 decoder. Feed it bytes as they arrive; it calls back once per complete top-level value,
 * with the exact bytes the value occupied (the proxy forwards those bytes unchanged).
 *
 * Two passes: framing finds where a value ends without building anything (a partial value is re-scanned when
 * more bytes come, which allocates nothing), and only a complete frame is decoded. `RespFramer` stops after the
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
export class RespFramer {
  #buffer: Buffer = Buffer.alloc(0);
  /** While > 0: the bytes (from the start of #waiting) the value being received needs at least. */
  #needed = 0;
  #waiting: Buffer[] = [];
  #waitingBytes = 0;
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
      const end = inline ? scanInline(this.#buffer, offset) : scanValue(this.#buffer, offset);
      if (end === INCOMPLETE) {
        if (neededHint - offset > LARGE_VALUE) {
          this.#needed = neededHint - offset;
          this.#waiting = [this.#buffer.subarray(offset)];
          this.#waitingBytes = this.#buffer.length - offset;
          this.#buffer = Buffer.alloc(0);
          return;
        }
        break;
      }
      const raw = this.#buffer.subarray(offset, end);
      offset = end;
      this.#onFrame(raw);
    }
    this.#buffer = offset === this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(offset);
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

function isTypeByte(byte: number): boolean {
  return '+-:$*%~>_,#(=!|'.includes(String.fromCharCode(byte));
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

/** Where the value starting at `offset` ends, or INCOMPLETE; builds nothing. */
function scanValue(buffer: Buffer, offset: number): number {
  if (offset >= buffer.length) return INCOMPLETE;
  const type = buffer[offset]!;
  const lineEnd = findLineEnd(buffer, offset + 1);
  if (lineEnd < 0) return INCOMPLETE;
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: case 0x2d: case 0x3a: case 0x5f: case 0x2c: case 0x23: case 0x28:
      return next;
    case 0x24: case 0x21: case 0x3d: {
      const length = lineInteger(buffer, offset + 1, lineEnd);
      if (length < 0) return next;
      if (buffer.length < next + length + 2) {
        neededHint = next + length + 2;
        return INCOMPLETE;
      }
      return next + length + 2;
    }
    case 0x2a: case 0x7e: case 0x3e: case 0x25: case 0x7c: {
      const count = lineInteger(buffer, offset + 1, lineEnd);
      // A map or an attribute holds count pairs; an attribute is followed by the value it annotates.
      const items = type === 0x25 || type === 0x7c ? count * 2 : count;
      let position = next;
      for (let i = 0; i < items; i++) {
        position = scanValue(buffer, position);
        if (position === INCOMPLETE) return INCOMPLETE;
      }
      return type === 0x7c ? scanValue(buffer, position) : position;
    }
    default:
      throw new RespProtocolError(`unknown RESP type byte ${JSON.stringify(String.fromCharCode(type))}`);
  }
}

/** Decodes the value at `offset` of a complete frame (framing has checked that every byte is there). */
function parseValue(buffer: Buffer, offset: number): { value: RespValue; end: number } {
  const type = buffer[offset]!;
  const lineEnd = findLineEnd(buffer, offset + 1);
  const line = () => buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // + simple string
      return { value: { type: 'simple', value: line() }, end: next };
    case 0x2d: // - error
      return { value: { type: 'error', value: line() }, end: next };
    case 0x3a: // : integer
      return { value: { type: 'integer', value: BigInt(line()) }, end: next };
    case 0x5f: // _ null
      return { value: { type: 'null' }, end: next };
    case 0x2c: // , double
      return { value: { type: 'double', value: parseDouble(line()) }, end: next };
    case 0x23: // # boolean
      return { value: { type: 'boolean', value: line() === 't' }, end: next };
    case 0x28: // ( big number
      return { value: { type: 'bignum', value: line() }, end: next };
    case 0x24: // $ blob string
    case 0x21: // ! blob error
    case 0x3d: { // = verbatim string
      const length = lineInteger(buffer, offset + 1, lineEnd);
      if (length < 0) return { value: { type: 'null' }, end: next };
      const bytes = Buffer.from(buffer.subarray(next, next + length));
      const end = next + length + 2;
      if (type === 0x21) return { value: { type: 'error', value: bytes.toString('utf8') }, end };
      if (type === 0x3d) return { value: { type: 'verbatim', format: bytes.toString('utf8', 0, 3), value: bytes.subarray(4) }, end };
      return { value: { type: 'blob', value: bytes }, end };
    }
    case 0x2a: // * array
    case 0x7e: // ~ set
    case 0x3e: { // > push
      const count = lineInteger(buffer, offset + 1, lineEnd);
      if (count < 0) return { value: { type: 'null' }, end: next };
      const items: RespValue[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = parseValue(buffer, position);
        items.push(item.value);
        position = item.end;
      }
      const kind = type === 0x2a ? 'array' : type === 0x7e ? 'set' : 'push';
      return { value: { type: kind, value: items }, end: position };
    }
    case 0x25: { // % map
      const count = lineInteger(buffer, offset + 1, lineEnd);
      const entries: [RespValue, RespValue][] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const key = parseValue(buffer, position);
        const value = parseValue(buffer, key.end);
        entries.push([key.value, value.value]);
        position = value.end;
      }
      return { value: { type: 'map', value: entries }, end: position };
    }
    default: { // | attribute (scanValue admits no other type byte): skipped, the value after it is what counts
      const count = lineInteger(buffer, offset + 1, lineEnd);
      let position = next;
      for (let i = 0; i < count * 2; i++) position = parseValue(buffer, position).end;
      return parseValue(buffer, position);
    }
  }
}

function parseDouble(text: string): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan') return NaN;
  return Number(text);
}
