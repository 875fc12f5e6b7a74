/**
 * The notify-keyspace-events flags the runtime needs, what a server's setting lacks, and the start-up error that
 * names them: shared by the CONFIG path (notify-keyspace-events.ts) and the probe (notify-keyspace-probe.ts).
 */
import { ConfigError } from '../../shared/errors.js';
import type { RedisAddress } from '../../shared/redis-address.js';

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
 * The arguments of a client's `CONFIG SET` with the runtime's flags added to each `notify-keyspace-events` value,
 * or null when nothing needs adding (another command, or the flags are there). Without this a client setting
 * `En` silently stopped every trigger: the runtime only sees the events the server publishes.
 */
export function keepNotifyFlags(args: readonly Buffer[]): Buffer[] | null {
  if (args.length < 4 || args[1]!.toString('latin1').toLowerCase() !== 'set') return null;
  let out: Buffer[] | null = null;
  for (let i = 2; i + 1 < args.length; i += 2) {
    if (args[i]!.toString('latin1').toLowerCase() !== 'notify-keyspace-events') continue;
    const merged = mergeNotifyFlags(args[i + 1]!.toString('latin1'));
    if (merged === null) continue;
    out ??= [...args];
    out[i + 1] = Buffer.from(merged, 'latin1');
  }
  return out;
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
