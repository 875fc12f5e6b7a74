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
import { ConfigError, RedisCommandError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { RedisAddress } from '../../shared/redis-address.js';
import { textOf } from '../resp/types.js';
import { probeKeyspaceNotifications } from './notify-keyspace-probe.js';
import type { RedisConnection } from './redis-connection.js';

export const REQUIRED_FLAGS = 'AKm';
/** What `A` stands for, in redis-server's order. */
export const CLASS_FLAGS = 'g$lshzxetd';

/** The flags of REQUIRED_FLAGS that `current` lacks (`A` counts as present when every class is), in order. */
export function missingNotifyFlags(current: string): string {
  const flags = new Set(current);
  const hasAllClasses = flags.has('A') || [...CLASS_FLAGS].every((c) => flags.has(c));
  return [...REQUIRED_FLAGS].filter((flag) => (flag === 'A' ? !hasAllClasses : !flags.has(flag))).join('');
}

/** The flags `current` plus those the runtime needs, or null when nothing is missing. */
export function mergeNotifyFlags(current: string): string | null {
  const missing = missingNotifyFlags(current);
  return missing === '' ? null : current + missing;
}

/**
 * Whether a CONFIG error reply means the command is not there for the runtime (renamed away, or denied to its
 * user by ACL), rather than a failure of the command itself.
 */
export function isConfigUnavailable(error: string): boolean {
  return /^ERR unknown command\b/i.test(error) || /^NOPERM\b/.test(error);
}

/** The start-up error for a server that lacks flags the runtime cannot set itself. */
export function missingFlagsError(address: RedisAddress, missing: readonly string[], why: string): ConfigError {
  return new ConfigError(
    `the redis-server at ${address.where} does not emit the keyspace notifications the runtime needs ` +
      `(notify-keyspace-events is missing: ${missing.join(', ')}), and the runtime cannot turn them on: ${why}. ` +
      `Add \`notify-keyspace-events ${REQUIRED_FLAGS}\` to the server's redis.conf (keeping any other flags you use) and restart it, ` +
      'or let the runtime’s user run CONFIG GET/SET.',
    { context: { missing: missing.join('') } },
  );
}

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
