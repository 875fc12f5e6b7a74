/**
 * Client-side caching without the runtime's own keys. redis-server tells a client with CLIENT TRACKING of every
 * key changed under its prefixes (BCAST) or read by it, and the runtime writes keys of its own on the server
 * (shared/keys.ts RUNTIME_KEY_NAMESPACE: the lease's PEXPIRE every second, its store and marks after a flush): a
 * BCAST tracker with no prefix would hear of the lease every second, which redis-server alone never sends. An
 * invalidation comes as a RESP3 push (`invalidate`, keys) or, redirected to a RESP2 subscriber, as a message on
 * `__redis__:invalidate`; both are forwarded without the runtime's keys, and not at all when no key is left. A
 * null invalidation (a flush) names no key and is forwarded as it is.
 */
import { isRuntimeKey, RUNTIME_KEY_NAMESPACE } from '../../shared/keys.js';
import type { RespValue } from '../resp/types.js';

const NAMESPACE_BYTES = Buffer.from(RUNTIME_KEY_NAMESPACE, 'latin1');
const TRACKING_CHANNEL = Buffer.from('__redis__:invalidate');
const INVALIDATE = Buffer.from('invalidate');
const MESSAGE = Buffer.from('message');

/**
 * Cheap test on a frame's bytes before it is decoded: could it name a key (or channel) of the runtime's? Frames
 * that cannot are forwarded as they are, undecoded.
 */
export function mayNameRuntimeKey(raw: Buffer): boolean {
  return raw.includes(NAMESPACE_BYTES);
}

/**
 * `value` as the client gets it: undefined when it is no invalidation naming a runtime key (forward the frame
 * unchanged), null when every key it names is the runtime's (forward nothing), else the same message without them.
 */
export function withoutRuntimeKeys(value: RespValue): RespValue | null | undefined {
  const keys = invalidatedKeys(value);
  if (keys === undefined || !keys.value.some(isOwn)) return undefined;
  const kept = keys.value.filter((key) => !isOwn(key));
  if (kept.length === 0) return null;
  const parts = value.type === 'push' || value.type === 'array' ? value.value : [];
  return { type: value.type as 'push' | 'array', value: [...parts.slice(0, -1), { type: 'array', value: kept }] };
}

/** The key array of an invalidation (`invalidate <keys>`, or `message __redis__:invalidate <keys>`); undefined otherwise. */
function invalidatedKeys(value: RespValue): { value: RespValue[] } | undefined {
  if (value.type !== 'push' && value.type !== 'array') return undefined;
  const [kind, second, third] = value.value;
  if (kind?.type !== 'blob') return undefined;
  let keys: RespValue | undefined;
  if (value.value.length === 2 && kind.value.equals(INVALIDATE)) keys = second;
  else if (value.value.length === 3 && kind.value.equals(MESSAGE) && second?.type === 'blob' && second.value.equals(TRACKING_CHANNEL)) keys = third;
  return keys?.type === 'array' ? keys : undefined;
}

function isOwn(key: RespValue): boolean {
  return key.type === 'blob' && isRuntimeKey(key.value);
}
