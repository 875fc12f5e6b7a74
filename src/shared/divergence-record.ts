/**
 * Divergence records: what the library keeps of a key written with `#` `+` (changed in Redis, not replicated)
 * or `-` (deleted from Redis, not replicated), so that a repair (verify --repair, the worker's repair after an
 * unclean runtime stop) does not undo it. One hash per capture log (`StreamKeys.divergent`, in the log's slot):
 * field = the hash key, value = the record.
 *
 * - `-`: the key was deleted without replication. It holds while the key does not exist.
 * - `+<16 hex digits>`: the fingerprint of the key's mapped fields after the write. It holds while the key's
 *   mapped fields still have that fingerprint.
 *
 * A record that no longer holds is stale: a later write changed the key (and its capture may have been lost),
 * so the key is compared and repaired as usual, and the repair removes the record. The library (the capture,
 * and the `forget_divergent` function) and the CLI (verify) both judge records with this module, so they can
 * never disagree on a fingerprint. Bundled into the gears library: no Node APIs.
 */
import { encodeUtf8 } from './utf8.js';

/** The record of a key deleted with `-`. */
export const DELETED_RECORD = '-';

/** The record of a key written with `+`: its mapped fields' fingerprint after the write. */
export function keptRecord(fields: Iterable<readonly [string, Uint8Array]>): string {
  return `+${fingerprint(fields)}`;
}

/**
 * True while `record` still describes the key: `-` and the key does not exist; `+…` and the key's mapped fields
 * (`fields`, present ones only; null for a missing key) have the fingerprint it holds.
 */
export function recordHolds(record: string, fields: Iterable<readonly [string, Uint8Array]> | null): boolean {
  if (record === DELETED_RECORD) return fields === null;
  return fields !== null && record === keptRecord(fields);
}

/**
 * FNV-1a 64 over the present mapped fields sorted by name, each as its name's UTF-8 length, bytes, its value's
 * length and bytes (lengths as 4 bytes, so no two contents share an input). 16 lower-case hex digits. Not a
 * cryptographic hash: it tells one write's content from a later one, which nobody crafts against it.
 */
export function fingerprint(fields: Iterable<readonly [string, Uint8Array]>): string {
  const sorted = [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = new Fnv1a64();
  for (const [name, value] of sorted) {
    const nameBytes = encodeUtf8(name);
    hash.length(nameBytes.length);
    hash.bytes(nameBytes);
    hash.length(value.length);
    hash.bytes(value);
  }
  return hash.hex();
}

/** FNV-1a 64 of `data`, 16 hex digits (the standard test vectors hold: fnv-1a-64("a") = af63dc4c8601ec8c). */
export function fnv1a64Hex(data: Uint8Array): string {
  const hash = new Fnv1a64();
  hash.bytes(data);
  return hash.hex();
}

/**
 * FNV-1a with 64-bit state held as two 32-bit halves (no BigInt: this runs on every `+` write inside Redis).
 * The prime 2^40 + 0x1b3: h·prime = h·0x1b3 + (h << 40), the shift touching only the high half.
 */
class Fnv1a64 {
  private hi = 0xcbf29ce4;
  private lo = 0x84222325;

  length(n: number): void {
    this.byte(n >>> 24);
    this.byte((n >>> 16) & 0xff);
    this.byte((n >>> 8) & 0xff);
    this.byte(n & 0xff);
  }

  bytes(data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.byte(data[i]!);
  }

  byte(b: number): void {
    const lo = (this.lo ^ b) >>> 0;
    // lo · 0x1b3 < 2^41 and hi · 0x1b3 < 2^41: exact in a double.
    const loProduct = lo * 0x1b3;
    const carry = Math.floor(loProduct / 0x1_0000_0000);
    this.lo = loProduct >>> 0;
    this.hi = (Math.imul(this.hi, 0x1b3) + carry + (lo << 8)) >>> 0;
  }

  hex(): string {
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
  }
}
