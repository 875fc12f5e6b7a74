/**
 * RedisGears subscribes to keyspace notifications through the module API with `ALL | MISSED`, which does not
 * depend on `notify-keyspace-events`. The runtime sees them through pub/sub, which does, so it turns on every
 * class (`A`), keyspace channels (`K`: one per key, so that it can subscribe to the watched prefixes only) and
 * key misses (`m`) — keeping whatever flags the user had set.
 */
import { textOf } from '../resp/types.js';
import type { RedisConnection } from './redis-connection.js';

const REQUIRED_FLAGS = 'AKm';

/** The flags `current` plus those the runtime needs, or null when nothing is missing. */
export function mergeNotifyFlags(current: string): string | null {
  const flags = new Set(current);
  const classes = 'g$lshzxetd'; // what `A` stands for
  const hasAllClasses = flags.has('A') || [...classes].every((c) => flags.has(c));
  const missing = [...REQUIRED_FLAGS].filter((flag) => (flag === 'A' ? !hasAllClasses : !flags.has(flag)));
  if (missing.length === 0) return null;
  return current + missing.join('');
}

export async function enableKeyspaceNotifications(control: RedisConnection): Promise<void> {
  const reply = await control.call(['CONFIG', 'GET', 'notify-keyspace-events']);
  const value = reply.type === 'array' && reply.value[1] ? textOf(reply.value[1]) : reply.type === 'map' && reply.value[0] ? textOf(reply.value[0][1]) : '';
  const merged = mergeNotifyFlags(value ?? '');
  if (merged !== null) await control.call(['CONFIG', 'SET', 'notify-keyspace-events', merged]);
}
