/**
 * Reads the current state of a key the trigger fired for. The capture is state-based: whatever the event, the
 * record is the hash as it is now, so the order and number of events inside MULTI/EXEC or a script (whose
 * callbacks all run at the end of the unit) do not matter.
 *
 * Only what the row needs is read: `#` and the mapped fields, with one HMGET. A hash of 100k fields or with a
 * 30 MB unmapped value costs what a two-field hash costs, and the capture stays far below lock-redis-timeout,
 * under which every captured write is serialised. Unmapped fields (whatever their names) are never seen.
 *
 * callRaw keeps the values as ArrayBuffers: they go into the capture record byte for byte, never decoded.
 */
import { replyArray, replyInteger, replyString } from '../replies.js';

/** The special field that carries the flag and the optional uuid. */
export const FLAG_FIELD = '#';

export type HashState =
  /** The key does not exist (deleted, expired, renamed away, or its last field removed). */
  | { readonly kind: 'gone' }
  /**
   * A hash. `flag` is the raw `#` value (null when absent); `fields` holds the mapped fields present.
   * `onlyFlag`: `#` is its only field, so removing `#` removes the key (checked only when no mapped field is
   * present, the one case where it decides between an all-NULL row and a delete).
   */
  | { readonly kind: 'hash'; readonly flag: ArrayBuffer | null; readonly fields: ReadonlyMap<string, ArrayBuffer>; readonly onlyFlag: boolean }
  /** The key holds a string, list, ... : the TYPE reply. */
  | { readonly kind: 'not-hash'; readonly type: string };

export function readHashState(client: GearsClient, key: string, mappedFields: readonly string[]): HashState {
  let reply: GearsReply;
  try {
    reply = client.callRaw('HMGET', key, FLAG_FIELD, ...mappedFields);
  } catch (error) {
    // RedisGears throws Redis errors as plain strings.
    if (String(error).startsWith('WRONGTYPE')) return { kind: 'not-hash', type: replyString(client.call('TYPE', key), 'TYPE') };
    throw error;
  }
  // Once per captured write: plain loops, no intermediate arrays.
  const replies = replyArray(reply, 'HMGET');
  const values: (ArrayBuffer | null)[] = new Array(replies.length);
  for (let i = 0; i < replies.length; i += 1) values[i] = binaryOrNull(replies[i]!, key);
  const flag = values[0];
  const fields = new Map<string, ArrayBuffer>();
  for (let i = 0; i < mappedFields.length; i += 1) {
    const value = values[i + 1];
    if (value !== undefined && value !== null) fields.set(mappedFields[i]!, value);
  }
  if (fields.size > 0) return { kind: 'hash', flag: flag ?? null, fields, onlyFlag: false };
  // No mapped field: HMGET cannot tell a missing key from a hash of unmapped fields.
  const length = replyInteger(client.call('HLEN', key), 'HLEN');
  if (length === 0n) return { kind: 'gone' };
  return { kind: 'hash', flag: flag ?? null, fields, onlyFlag: flag != null && length === 1n };
}

function binaryOrNull(value: GearsReply, key: string): ArrayBuffer | null {
  if (value === null || value instanceof ArrayBuffer) return value;
  throw `ERR HMGET ${key} (raw) replied a non-binary value`;
}
