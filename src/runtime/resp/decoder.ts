/**
 * Streaming RESP2/RESP3 decoder. Feed it bytes as they arrive; it calls `onValue` once per complete top-level
 * value, with the exact bytes the value occupied (the proxy forwards those bytes unchanged).
 *
 * A partial value is re-parsed from its start when more bytes come; parsing is allocation-free until a value is
 * complete, so that stays cheap for the reply sizes Redis sends.
 */
import type { RespValue } from './types.js';

const CR = 13;
const LF = 10;
/** Returned by the parse functions when the buffer ends inside a value. */
const INCOMPLETE = Symbol('incomplete');
type Parsed = { value: RespValue; end: number } | typeof INCOMPLETE;
/** Set by parseValue when it stops inside a bulk string: the buffer length that string needs. */
let neededHint = 0;
/** Values that need more than this many more bytes are collected chunk by chunk before parsing again. */
const LARGE_VALUE = 256 * 1024;

export class RespProtocolError extends Error {
  override name = 'RespProtocolError';
}

export interface RespDecoderOptions {
  /** Accept inline commands (`PING\r\n`, as typed into telnet) at the top level, as redis-server does. */
  inlineCommands?: boolean;
}

export class RespDecoder {
  #buffer: Buffer = Buffer.alloc(0);
  /** While > 0: the bytes (from the start of #waiting) the value being received needs at least. */
  #needed = 0;
  #waiting: Buffer[] = [];
  #waitingBytes = 0;
  readonly #onValue: (value: RespValue, raw: Buffer) => void;
  readonly #inline: boolean;

  constructor(onValue: (value: RespValue, raw: Buffer) => void, options: RespDecoderOptions = {}) {
    this.#onValue = onValue;
    this.#inline = options.inlineCommands ?? false;
  }

  /** Bytes received but not yet part of a complete value. */
  get pendingBytes(): number {
    return this.#buffer.length + this.#waitingBytes;
  }

  push(chunk: Buffer): void {
    // A large bulk string arrives in many chunks: keep them aside until the value can be complete, instead of
    // concatenating and re-parsing on every chunk (quadratic in the value's size).
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
      const parsed = this.#inline && !isTypeByte(this.#buffer[offset]!) ? parseInline(this.#buffer, offset) : parseValue(this.#buffer, offset);
      if (parsed === INCOMPLETE) {
        if (neededHint - offset > LARGE_VALUE) {
          this.#needed = neededHint - offset;
          this.#waiting = [this.#buffer.subarray(offset)];
          this.#waitingBytes = this.#buffer.length - offset;
          this.#buffer = Buffer.alloc(0);
          return;
        }
        break;
      }
      const raw = this.#buffer.subarray(offset, parsed.end);
      offset = parsed.end;
      if (parsed.value.type === 'array' && parsed.value.value.length === 0 && this.#inline && raw[0] !== 0x2a) continue; // blank inline line
      this.#onValue(parsed.value, raw);
    }
    this.#buffer = offset === this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(offset);
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

function parseInline(buffer: Buffer, offset: number): Parsed {
  const lf = buffer.indexOf(LF, offset);
  if (lf < 0) {
    if (buffer.length - offset > 64 * 1024) throw new RespProtocolError('too big inline request');
    return INCOMPLETE;
  }
  const line = buffer.toString('utf8', offset, buffer[lf - 1] === CR ? lf - 1 : lf).trim();
  const words = line.length === 0 ? [] : line.split(/\s+/);
  return { value: { type: 'array', value: words.map((w) => ({ type: 'blob', value: Buffer.from(w) })) }, end: lf + 1 };
}

function parseValue(buffer: Buffer, offset: number): Parsed {
  if (offset >= buffer.length) return INCOMPLETE;
  const type = buffer[offset]!;
  const lineEnd = findLineEnd(buffer, offset + 1);
  if (lineEnd < 0) return INCOMPLETE;
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
      const length = Number(line());
      if (length < 0) return { value: { type: 'null' }, end: next };
      if (buffer.length < next + length + 2) {
        neededHint = next + length + 2;
        return INCOMPLETE;
      }
      const bytes = Buffer.from(buffer.subarray(next, next + length));
      const end = next + length + 2;
      if (type === 0x21) return { value: { type: 'error', value: bytes.toString('utf8') }, end };
      if (type === 0x3d) return { value: { type: 'verbatim', format: bytes.toString('utf8', 0, 3), value: bytes.subarray(4) }, end };
      return { value: { type: 'blob', value: bytes }, end };
    }
    case 0x2a: // * array
    case 0x7e: // ~ set
    case 0x3e: { // > push
      const count = Number(line());
      if (count < 0) return { value: { type: 'null' }, end: next };
      const items: RespValue[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = parseValue(buffer, position);
        if (item === INCOMPLETE) return INCOMPLETE;
        items.push(item.value);
        position = item.end;
      }
      const kind = type === 0x2a ? 'array' : type === 0x7e ? 'set' : 'push';
      return { value: { type: kind, value: items }, end: position };
    }
    case 0x25: { // % map
      const count = Number(line());
      const entries: [RespValue, RespValue][] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const key = parseValue(buffer, position);
        if (key === INCOMPLETE) return INCOMPLETE;
        const value = parseValue(buffer, key.end);
        if (value === INCOMPLETE) return INCOMPLETE;
        entries.push([key.value, value.value]);
        position = value.end;
      }
      return { value: { type: 'map', value: entries }, end: position };
    }
    case 0x7c: { // | attribute: skipped, the value after it is what counts
      const count = Number(line());
      let position = next;
      for (let i = 0; i < count * 2; i++) {
        const item = parseValue(buffer, position);
        if (item === INCOMPLETE) return INCOMPLETE;
        position = item.end;
      }
      return parseValue(buffer, position);
    }
    default:
      throw new RespProtocolError(`unknown RESP type byte ${JSON.stringify(String.fromCharCode(type))}`);
  }
}

function parseDouble(text: string): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan') return NaN;
  return Number(text);
}
