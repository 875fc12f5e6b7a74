/**
 * Bytes inside the isolate, which has no TextDecoder or Buffer: the host hands bytes in as latin1 strings (one
 * char per byte); these helpers turn them into text (strict UTF-8, as Rust's String::from_utf8) or ArrayBuffers,
 * and text back into bytes. Intrinsics are taken before library code runs.
 */
const fromCharCode = String.fromCharCode;
const apply = Reflect.apply;
const IntrinsicUint8Array = Uint8Array;
const byteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!;
const CHUNK = 8192;

/** The text of the UTF-8 bytes `bytes[start, end)`, or null when they are not valid UTF-8. */
export function decodeUtf8(bytes: string, start = 0, end = bytes.length): string | null {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return start === 0 && end === bytes.length ? bytes : bytes.slice(start, end);
  const units: number[] = [];
  let out = '';
  let i = start;
  while (i < end) {
    const b0 = bytes.charCodeAt(i);
    let code: number;
    if (b0 < 0x80) {
      code = b0;
      i += 1;
    } else {
      const length = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
      if (length === 0 || i + length > end) return null;
      code = b0 & (0xff >> (length + 1));
      for (let k = 1; k < length; k++) {
        const b = bytes.charCodeAt(i + k);
        if ((b & 0xc0) !== 0x80) return null;
        code = (code << 6) | (b & 0x3f);
      }
      // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
      if ((length === 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) || (length === 4 && (code < 0x10000 || code > 0x10ffff))) return null;
      i += length;
    }
    if (code > 0xffff) {
      code -= 0x10000;
      units[units.length] = 0xd800 + (code >> 10);
      units[units.length] = 0xdc00 + (code & 0x3ff);
    } else units[units.length] = code;
    if (units.length >= CHUNK) {
      out += apply(fromCharCode, undefined, units) as string;
      units.length = 0;
    }
  }
  return out + (apply(fromCharCode, undefined, units) as string);
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

/** An ArrayBuffer holding the bytes `bytes[start, end)`. */
export function toArrayBuffer(bytes: string, start = 0, end = bytes.length): ArrayBuffer {
  const view = new IntrinsicUint8Array(end - start);
  for (let i = start; i < end; i++) view[i - start] = bytes.charCodeAt(i);
  return view.buffer;
}

/** The bytes of an ArrayBuffer as a latin1 string. */
export function fromArrayBuffer(buffer: ArrayBuffer): string {
  const view = new IntrinsicUint8Array(buffer);
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
