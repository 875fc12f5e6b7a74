/**
 * Reads the current state of a key the trigger fired for. The capture is state-based: whatever the event, the
 * record is the hash as it is now, so the order and number of events inside MULTI/EXEC or a script (whose
 * callbacks all run at the end of the unit) do not matter.
 *
 * callRaw keeps the values as ArrayBuffers: they go into the capture record byte for byte, never decoded.
 */
import { replyString } from '../replies.js';

export type HashState =
  /** The key does not exist (deleted, expired, renamed away, or its last field removed). */
  | { readonly kind: 'gone' }
  | { readonly kind: 'hash'; readonly fields: ReadonlyMap<string, ArrayBuffer> }
  /** The key holds a string, list, ... : the TYPE reply. */
  | { readonly kind: 'not-hash'; readonly type: string }
  /** A field name is not valid UTF-8; `flag` is the raw `#` value, if any, so its uuid can still get a failure ack. */
  | { readonly kind: 'binary-field'; readonly flag: ArrayBuffer | null };

export function readHashState(client: GearsClient, key: string): HashState {
  let reply: GearsReply;
  try {
    reply = client.callRaw('HGETALL', key);
  } catch (error) {
    // RedisGears throws Redis errors as plain strings.
    const message = String(error);
    if (message.startsWith('WRONGTYPE')) return { kind: 'not-hash', type: replyString(client.call('TYPE', key), 'TYPE') };
    if (message.includes('Binary map key is not supported')) {
      const flag = client.callRaw('HGET', key, '#');
      return { kind: 'binary-field', flag: flag instanceof ArrayBuffer ? flag : null };
    }
    throw error;
  }
  if (reply === null || typeof reply !== 'object' || Array.isArray(reply) || reply instanceof ArrayBuffer || reply instanceof Set || reply instanceof String) {
    throw `ERR HGETALL ${key} replied ${Array.isArray(reply) ? 'an array' : typeof reply}, expected a map`;
  }
  const fields = new Map<string, ArrayBuffer>();
  for (const field of Object.keys(reply)) {
    const value = reply[field];
    if (!(value instanceof ArrayBuffer)) throw `ERR HGETALL ${key} (raw) replied a non-binary value for field ${field}`;
    fields.set(field, value);
  }
  return fields.size === 0 ? { kind: 'gone' } : { kind: 'hash', fields };
}
