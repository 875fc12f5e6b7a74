/**
 * RedisGears subscribes to keyspace notifications through the module API with `ALL | MISSED`, which does not
 * depend on `notify-keyspace-events`. The runtime sees them through pub/sub, which does, so it turns on every
 * class (`A`), keyspace channels (`K`: one per key, so that it can subscribe to the watched prefixes only) and
 * key misses (`m`) — keeping whatever flags the user had set.
 *
 * A server whose CONFIG is renamed away (`rename-command CONFIG ""`) or denied to the runtime's user cannot be
 * told: the runtime then checks by probe that it already emits them (notify-keyspace-probe.ts), and refuses to
 * start, naming the missing flags and the redis.conf line, when it does not. The probe writes a key of its own,
 * which a replica refuses: there the check waits for a promotion (replication-role.ts), before which no trigger
 * fires anyway.
 */
import type { Logger } from '../../shared/log.js';
import type { RedisAddress } from '../../shared/redis-address.js';
import { sendConfig } from './config-command.js';
import { mergeNotifyFlags, missingFlagsError, missingNotifyFlags } from './kept-settings.js';
import { probeKeyspaceNotifications } from './notify-keyspace-probe.js';
import type { RedisConnection } from './redis-connection.js';

/** The probe a replica could not run: it throws the ConfigError a start would (kept-settings.ts) when it fails. */
export type DeferredNotifyCheck = () => Promise<void>;

/** Turns the notifications on, or checks them; on a `replica` whose CONFIG is unavailable, returns the check. */
export async function enableKeyspaceNotifications(control: RedisConnection, address: RedisAddress, replica: boolean, log: Logger): Promise<DeferredNotifyCheck | null> {
  const got = await sendConfig(control, ['GET', 'notify-keyspace-events']);
  if ('unavailable' in got) {
    const probe = () => probeKeyspaceNotifications(control, address, got.unavailable, log);
    if (!replica) {
      await probe();
      return null;
    }
    log.info(
      { redis: address.where, config: got.unavailable.trim() },
      'CONFIG is unavailable and redis-server is a replica, which the notify-keyspace-events probe cannot write to: the flags are checked once it is promoted (no trigger fires before)',
    );
    return probe;
  }
  const value = got.entries.get('notify-keyspace-events') ?? '';
  const merged = mergeNotifyFlags(value);
  if (merged === null) return null;
  const set = await sendConfig(control, ['SET', 'notify-keyspace-events', merged]);
  // CONFIG GET allowed, CONFIG SET not: what is missing is known exactly.
  if ('unavailable' in set) throw missingFlagsError(address, [...missingNotifyFlags(value)], `CONFIG SET is unavailable (${set.unavailable})`);
  return null;
}
