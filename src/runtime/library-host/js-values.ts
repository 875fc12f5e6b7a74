/**
 * The host's side of value conversion. A library's return value was already converted by the guest runtime
 * inside the isolate (guest/reply-writer.ts), under the lock timeout; what arrives is a copy made of primitives,
 * ArrayBuffers and tagged arrays, turned here into the RespValue the server encodes.
 */
import type { RespValue } from '../resp/types.js';
import { Tag, type GuestReply } from './guest/protocol.js';

/** V8's `IsInt32()`: -0 and fractions are not int32. */
const isInt32 = (value: number): boolean => Number.isInteger(value) && !Object.is(value, -0) && value >= -0x80000000 && value <= 0x7fffffff;

/** A converted return value as a reply (RedisGears' order of checks was applied in the isolate). */
export function fromGuest(value: GuestReply): RespValue {
  if (typeof value === 'bigint') return { type: 'integer', value };
  if (typeof value === 'number') return isInt32(value) ? { type: 'integer', value: BigInt(value) } : { type: 'double', value };
  if (typeof value === 'string') return { type: 'blob', value: Buffer.from(value) };
  if (value === null) return { type: 'null' };
  if (typeof value === 'boolean') return { type: 'boolean', value };
  if (value instanceof ArrayBuffer) return { type: 'blob', value: Buffer.from(value) };
  switch (value[0]) {
    case Tag.ARRAY:
      return { type: 'array', value: value[1].map(fromGuest) };
    case Tag.SET:
      return { type: 'set', value: setMembers(value[1]) };
    case Tag.MAP:
      return { type: 'map', value: value[1].map((key, i) => [typeof key === 'number' ? { type: 'integer', value: BigInt(key) } : blobOf(key), fromGuest(value[2][i]!)]) };
    case Tag.STATUS:
      return { type: 'simple', value: value[1] };
    case Tag.VERBATIM:
      return { type: 'verbatim', format: value[1], value: Buffer.from(value[2]) };
  }
}

function blobOf(text: string): RespValue {
  return { type: 'blob', value: Buffer.from(text) };
}

/** Members of a returned Set, already checked to be key-like; equal keys (same bytes, or same value) once. */
function setMembers(members: GuestReply[]): RespValue[] {
  const out: RespValue[] = [];
  const seen = new Set<string>();
  for (const member of members) {
    const key = fromGuest(member);
    const identity = key.type === 'blob' ? `b${key.value.toString('hex')}` : `${key.type}${String((key as { value: unknown }).value)}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    out.push(key);
  }
  return out;
}

/** `String(value)` for host values (error texts the host itself makes); never throws. */
export function stringForm(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'Failed converting value to string';
  }
}
