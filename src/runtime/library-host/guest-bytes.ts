/** Bytes the host hands into a library's isolate, in the form the guest takes fastest (guest/protocol.ts GuestBytes). */
import { GUEST_BYTES_AS_BUFFER, type GuestBytes } from './guest/protocol.js';

export function guestBytes(bytes: Buffer): GuestBytes {
  if (bytes.length < GUEST_BYTES_AS_BUFFER) return bytes.toString('latin1');
  // A copy of exactly these bytes: a Buffer may be a view of a larger (pooled) ArrayBuffer holding other data.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}
