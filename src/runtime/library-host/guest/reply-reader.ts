/**
 * A command's RESP3 reply (GuestBytes from the host: latin1, or an ArrayBuffer when long) as RedisGears hands it
 * to JS (v8_native_functions.rs `call_result_to_js_object`): errors thrown as plain strings, bulk strings as text
 * (or ArrayBuffers for callRaw), maps as objects, sets as Sets, big numbers and verbatim strings as String
 * objects with `__reply_type`. Runs inside the isolate, under the lock timeout.
 */
import { decodeUtf8, fromArrayBuffer, toArrayBuffer } from './bytes.js';
import type { GuestBytes } from './protocol.js';

const IntrinsicString = String;
const IntrinsicSet = Set;
const setAdd = Set.prototype.add;
const apply = Reflect.apply;
const defineProperty = Object.defineProperty;
const IntrinsicBigInt = BigInt;
const IntrinsicUint8Array = Uint8Array;
const fromCharCode = String.fromCharCode;
const CR = 13;
const LF = 10;

class Reader {
  #at = 0;
  /** The reply's bytes when they came as an ArrayBuffer (read by index), else null. */
  readonly #view: Uint8Array | null;

  constructor(
    readonly bytes: GuestBytes,
    readonly raw: boolean,
  ) {
    this.#view = typeof bytes === 'string' ? null : new IntrinsicUint8Array(bytes);
  }

  /** The type byte of the value at the cursor, as a one-char string. */
  #type(): string {
    return this.#view === null ? (this.bytes as string)[this.#at]! : fromCharCode(this.#view[this.#at]!);
  }

  value(): unknown {
    const bytes = this.bytes;
    const type = this.#type();
    const line = this.#line();
    switch (type) {
      case '+':
        return this.raw ? toArrayBuffer(line) : decodeOrThrow(line, 'Could not decode value as string');
      case '-':
        throw decodeOrThrow(line, 'Could not decode value as string');
      case ':':
        return IntrinsicBigInt(line);
      case '$': {
        const length = Number(line);
        if (length < 0) return null;
        const start = this.#at;
        this.#at += length + 2;
        if (this.raw) return toArrayBuffer(bytes, start, start + length);
        return decodeOrThrow(bytes, 'Could not decode value as string', start, start + length);
      }
      case '_':
        return null;
      case ',':
        return line === 'inf' ? Infinity : line === '-inf' ? -Infinity : line === 'nan' ? NaN : Number(line);
      case '#':
        return line === 't';
      case '(': {
        const value = new IntrinsicString(line);
        defineValue(value, '__reply_type', 'big_number');
        return value;
      }
      case '=': {
        const length = Number(line);
        const start = this.#at;
        this.#at += length + 2;
        const format = typeof bytes === 'string' ? bytes.slice(start, start + 3) : fromArrayBuffer(bytes, start, start + 3);
        let value: object;
        if (this.raw) value = toArrayBuffer(bytes, start + 4, start + length);
        else value = new IntrinsicString(decodeOrThrow(bytes, 'invalid utf-8 sequence', start + 4, start + length));
        defineValue(value, '__reply_type', 'verbatim');
        defineValue(value, '__format', format);
        return value;
      }
      case '*':
      case '>': {
        const count = Number(line);
        const out: unknown[] = [];
        for (let i = 0; i < count; i++) out[i] = this.value();
        return out;
      }
      case '~': {
        const count = Number(line);
        const out = new IntrinsicSet();
        for (let i = 0; i < count; i++) apply(setAdd, out, [this.value()]);
        return out;
      }
      case '%': {
        const count = Number(line);
        const out: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) {
          const name = this.#mapKey();
          defineValue(out, name, this.value());
        }
        return out;
      }
      default:
        throw 'Unknown reply type';
    }
  }

  /** A map key: text or an integer; anything else is refused as RedisGears refuses it. */
  #mapKey(): string {
    const type = this.#type();
    if (type === '+' || type === ':') return decodeOrThrow(this.#line(), 'Binary map key is not supported');
    if (type === '-') throw decodeOrThrow(this.#line(), 'Could not decode value as string');
    if (type === '$') {
      const length = Number(this.#line());
      const start = this.#at;
      this.#at += length + 2;
      return decodeOrThrow(this.bytes, 'Binary map key is not supported', start, start + length);
    }
    this.value();
    throw 'Given object can not be a object key';
  }

  /** The rest of the current line after its type byte; moves past the CRLF. */
  #line(): string {
    const view = this.#view;
    let line: string;
    let end: number;
    if (view === null) {
      end = (this.bytes as string).indexOf('\r\n', this.#at);
      line = (this.bytes as string).slice(this.#at + 1, end);
    } else {
      end = this.#at + 1;
      while (end < view.length && !(view[end] === CR && view[end + 1] === LF)) end++;
      line = fromArrayBuffer(this.bytes as ArrayBuffer, this.#at + 1, end);
    }
    this.#at = end + 2;
    return line;
  }
}

function decodeOrThrow(bytes: GuestBytes, problem: string, start?: number, end?: number): string {
  const text = decodeUtf8(bytes, start, end);
  if (text === null) throw problem;
  return text;
}

/** Sets a property as assignment would on a fresh object, without running setters library code put on prototypes. */
function defineValue(target: object, name: string, value: unknown): void {
  defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
}

export function readReply(bytes: GuestBytes, raw: boolean): unknown {
  return new Reader(bytes, raw).value();
}
