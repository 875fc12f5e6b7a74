/**
 * Byte helpers for a sandbox without Buffer, TextEncoder or TextDecoder: RedisGears hands binary data over as
 * ArrayBuffers, and the library only ever needs to decode short texts (the `#` flag) and to show binary keys.
 */

/**
 * Decodes strict UTF-8, or returns null when the bytes are not valid UTF-8. decodeURIComponent is one of the
 * few decoders on the sandbox's global allow-list, and it rejects malformed sequences with a URIError.
 */
export function decodeUtf8(bytes: ArrayBuffer): string | null {
  const view = new Uint8Array(bytes);
  let escaped = '';
  for (const byte of view) escaped += byte < 0x10 ? `%0${byte.toString(16)}` : `%${byte.toString(16)}`;
  try {
    return decodeURIComponent(escaped);
  } catch {
    return null;
  }
}

/** Lower-case hex of the bytes, for showing a binary key in a dead letter or a log line. */
export function toHex(bytes: ArrayBuffer): string {
  let hex = '';
  for (const byte of new Uint8Array(bytes)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
