/**
 * Bytes inside the isolate, which has no TextDecoder or Buffer: the host hands bytes in as latin1 strings (one
 * char per byte) or, long ones, as ArrayBuffers (protocol.ts GuestBytes); these helpers turn them into text
 * (strict UTF-8, as Rust's String::from_utf8) or ArrayBuffers, and text back into bytes. Intrinsics are taken
 * before library code runs.
 */
import type { GuestBytes } from './protocol.js';

const fromCharCode = String.fromCharCode;
const apply = Reflect.apply;
const IntrinsicUint8Array = Uint8Array;
const byteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!;
const arrayBufferSlice = ArrayBuffer.prototype.slice;
const CHUNK = 8192;
/** ASCII runs at least this long are sliced whole by decodeUtf8; shorter ones join the units. */
const ASCII_RUN = 64;
/** Ranges at least this long are scanned for non-ASCII bytes by NON_ASCII (latin1 strings hold chars up to 0xff). */
const SCAN_BY_REGEX = 256;
const NON_ASCII = /[\x80-\xff]/g;
const regExpExec = RegExp.prototype.exec;

/** How many bytes `bytes` holds. */
export function lengthOf(bytes: GuestBytes): number {
  return typeof bytes === 'string' ? bytes.length : (apply(byteLength, bytes, []) as number);
}

/** The text of the UTF-8 bytes `bytes[start, end)`, or null when they are not valid UTF-8. */
export function decodeUtf8(bytes: GuestBytes, start = 0, end = lengthOf(bytes)): string | null {
  // An ArrayBuffer's bytes as latin1 first: String.fromCharCode takes them a chunk at a time, natively.
  if (typeof bytes !== 'string') return decodeUtf8(fromArrayBuffer(bytes, start, end));
  // A long range on its own (a slice shares the characters), so asciiEnd's regular expression stops at its end.
  if (end - start >= SCAN_BY_REGEX && (start !== 0 || end !== bytes.length)) return decodeUtf8(bytes.slice(start, end));
  let i = asciiEnd(bytes, start, end);
  if (i === end) return start === 0 && end === bytes.length ? bytes : bytes.slice(start, end);
  // The ASCII prefix is its own text: decoding starts past it (binary values, often invalid, fail sooner).
  const units: number[] = [];
  let out = bytes.slice(start, i);
  while (i < end) {
    const b0 = bytes.charCodeAt(i);
    if (b0 < 0x80) {
      // A long run of ASCII is its own text, taken in one slice instead of a unit per byte (a 1 MB value with a
      // binary header took ~10 ms per MB the other way).
      const runEnd = asciiEnd(bytes, i + 1, end);
      if (runEnd - i >= ASCII_RUN) {
        if (units.length > 0) out += apply(fromCharCode, undefined, units) as string;
        units.length = 0;
        out += bytes.slice(i, runEnd);
      } else {
        for (let k = i; k < runEnd; k++) units[units.length] = bytes.charCodeAt(k);
      }
      i = runEnd;
    } else {
      const length = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
      if (length === 0 || i + length > end) return null;
      let code = b0 & (0xff >> (length + 1));
      for (let k = 1; k < length; k++) {
        const b = bytes.charCodeAt(i + k);
        if ((b & 0xc0) !== 0x80) return null;
        code = (code << 6) | (b & 0x3f);
      }
      // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
      if ((length === 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) || (length === 4 && (code < 0x10000 || code > 0x10ffff))) return null;
      i += length;
      if (code > 0xffff) {
        code -= 0x10000;
        units[units.length] = 0xd800 + (code >> 10);
        units[units.length] = 0xdc00 + (code & 0x3ff);
      } else units[units.length] = code;
    }
    if (units.length >= CHUNK) {
      out += apply(fromCharCode, undefined, units) as string;
      units.length = 0;
    }
  }
  return out + (apply(fromCharCode, undefined, units) as string);
}

/**
 * Where the run of ASCII at `from` ends, at most `end`. A long one is found by a regular expression, which
 * the engine scans natively (~0.3 ms per MB against 2-20 ms for a loop of charCodeAt inside the isolate); its
 * search is not bounded by `end`, so callers pass long ranges as strings of their own (decodeUtf8 slices them).
 */
function asciiEnd(bytes: string, from: number, end: number): number {
  if (end - from < SCAN_BY_REGEX) {
    let i = from;
    while (i < end && bytes.charCodeAt(i) < 0x80) i++;
    return i;
  }
  NON_ASCII.lastIndex = from;
  const found = apply(regExpExec, NON_ASCII, [bytes]) as RegExpExecArray | null;
  return found === null || found.index > end ? end : found.index;
}

/** The UTF-8 bytes of `text` as a latin1 string; lone surrogates become U+FFFD, as Buffer.from does. */
export function encodeUtf8(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text;
  const units: number[] = [];
  let out = '';
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i += 1;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
    if (code < 0x80) units[units.length] = code;
    else if (code < 0x800) {
      units[units.length] = 0xc0 | (code >> 6);
      units[units.length] = 0x80 | (code & 0x3f);
    } else if (code < 0x10000) {
      units[units.length] = 0xe0 | (code >> 12);
      units[units.length] = 0x80 | ((code >> 6) & 0x3f);
      units[units.length] = 0x80 | (code & 0x3f);
    } else {
      units[units.length] = 0xf0 | (code >> 18);
      units[units.length] = 0x80 | ((code >> 12) & 0x3f);
      units[units.length] = 0x80 | ((code >> 6) & 0x3f);
      units[units.length] = 0x80 | (code & 0x3f);
    }
    if (units.length >= CHUNK) {
      out += apply(fromCharCode, undefined, units) as string;
      units.length = 0;
    }
  }
  return out + (apply(fromCharCode, undefined, units) as string);
}

/** A new ArrayBuffer holding the bytes `bytes[start, end)`. */
export function toArrayBuffer(bytes: GuestBytes, start = 0, end = lengthOf(bytes)): ArrayBuffer {
  if (typeof bytes !== 'string') return apply(arrayBufferSlice, bytes, [start, end]) as ArrayBuffer;
  const view = new IntrinsicUint8Array(end - start);
  for (let i = start; i < end; i++) view[i - start] = bytes.charCodeAt(i);
  return view.buffer;
}

/** The bytes `[start, end)` of an ArrayBuffer as a latin1 string. */
export function fromArrayBuffer(buffer: ArrayBuffer, start = 0, end = lengthOf(buffer)): string {
  const view = new IntrinsicUint8Array(buffer, start, end - start);
  let out = '';
  for (let i = 0; i < view.length; i += CHUNK) out += apply(fromCharCode, undefined, view.subarray(i, i + CHUNK)) as string;
  return out;
}

/** Whether `value` is an ArrayBuffer (its brand, as util.types.isArrayBuffer: no prototype tricks). */
export function isArrayBuffer(value: unknown): value is ArrayBuffer {
  try {
    apply(byteLength, value, []);
    return true;
  } catch {
    return false;
  }
}
