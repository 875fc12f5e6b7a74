/**
 * RedisGears subscribes to keyspace notifications through the module API with `ALL | MISSED`, which does not
 * depend on `notify-keyspace-events`. The runtime sees them through pub/sub, which does, so it turns on every
 * class (`A`), keyspace channels (`K`: one per key, so that it can subscribe to the watched prefixes only) and
 * key misses (`m`) — keeping whatever flags the user had set.
 *
 * A server whose CONFIG is renamed away (`rename-command CONFIG ""`) or denied to the runtime's user cannot be
 * told: the runtime then checks by probe that it already emits them (notify-keyspace-probe.ts), and refuses to
 * start, naming the missing flags and the redis.conf line, when it does not.
 */
import { RedisCommandError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { RedisAddress } from '../../shared/redis-address.js';
import { textOf } from '../resp/types.js';
import { isConfigUnavailable, mergeNotifyFlags, missingFlagsError, missingNotifyFlags } from './notify-flags.js';
import { probeKeyspaceNotifications } from './notify-keyspace-probe.js';
import type { RedisConnection } from './redis-connection.js';

export async function enableKeyspaceNotifications(control: RedisConnection, address: RedisAddress, log: Logger): Promise<void> {
  const reply = await control.send(['CONFIG', 'GET', 'notify-keyspace-events']);
  if (reply.type === 'error') {
    if (!isConfigUnavailable(reply.value)) throw new RedisCommandError(reply.value, { context: { command: 'CONFIG' } });
    await probeKeyspaceNotifications(control, address, reply.value, log);
    return;
  }
  const value = reply.type === 'array' && reply.value[1] ? textOf(reply.value[1]) : reply.type === 'map' && reply.value[0] ? textOf(reply.value[0][1]) : '';
  const merged = mergeNotifyFlags(value ?? '');
  if (merged === null) return;
  const set = await control.send(['CONFIG', 'SET', 'notify-keyspace-events', merged]);
  if (set.type !== 'error') return;
  // CONFIG GET allowed, CONFIG SET not: what is missing is known exactly.
  if (isConfigUnavailable(set.value)) throw missingFlagsError(address, [...missingNotifyFlags(value ?? '')], `CONFIG SET is unavailable (${set.value.trim()})`);
  throw new RedisCommandError(set.value, { context: { command: 'CONFIG' } });
}
