/**
 * The settings of redis-server the runtime keeps while it runs, because without them writes to watched keys go
 * uncaptured: `notify-keyspace-events` with `A`, `K` and `m` (the runtime's triggers see only the events the
 * server publishes) and, where the runtime lifted it at start, the `pubsub` class of `client-output-buffer-limit`
 * at `0 0 0` (server-config.ts: a burst of events must not get its keyspace subscription dropped). Here: what a
 * value lacks, the value that keeps them in a client's CONFIG SET through the runtime (keepRuntimeSettings), what
 * a CONFIG GET shows changed behind the runtime's back (changedSettings, for settings-check.ts), and the start-up
 * error for flags the runtime cannot set (notify-keyspace-events.ts, notify-keyspace-probe.ts).
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

/** What the runtime keeps besides the notify flags (always kept), as it found and set them at start. */
export interface KeptSettings {
  /**
   * The `pubsub` class of `client-output-buffer-limit` is `0 0 0`, lifted at start or already so: kept so. False
   * where CONFIG was unavailable at start (the runtime could neither read nor lift it): nothing is kept then.
   */
  readonly pubsubLimitLifted: boolean;
}

export const NOTIFY_SETTING = 'notify-keyspace-events';
export const OUTPUT_LIMIT_SETTING = 'client-output-buffer-limit';
/** The `client-output-buffer-limit` value that lifts the pubsub class alone (the other classes stay as they are). */
export const LIFTED_PUBSUB_LIMIT = 'pubsub 0 0 0';

/** The pubsub class of a `client-output-buffer-limit` value as CONFIG GET shows it, and whether it is lifted. */
export function pubsubLimitOf(value: string): { readonly text: string; readonly lifted: boolean } | null {
  const pubsub = /pubsub (\S+) (\S+) (\S+)/.exec(value);
  return pubsub === null ? null : { text: pubsub[0], lifted: pubsub[1] === '0' && pubsub[2] === '0' };
}

/**
 * The arguments of a client's `CONFIG SET` with the runtime's settings kept: its flags added to each
 * `notify-keyspace-events` value, and (when `kept.pubsubLimitLifted`) the limits of each pubsub class of a
 * `client-output-buffer-limit` value at `0 0 0`; null when nothing needs keeping (another command, or the value
 * keeps them already). Without this a client setting `En` silently stopped every trigger, and one setting
 * `pubsub 32mb 8mb 60` made the next burst of events drop the runtime's subscription (and close the runtime).
 * The client gets redis-server's reply to the kept value: `OK`, as to its own.
 */
export function keepRuntimeSettings(args: readonly Buffer[], kept: KeptSettings): Buffer[] | null {
  if (args.length < 4 || args[1]!.toString('latin1').toLowerCase() !== 'set') return null;
  let out: Buffer[] | null = null;
  for (let i = 2; i + 1 < args.length; i += 2) {
    const name = args[i]!.toString('latin1').toLowerCase();
    const value = args[i + 1]!.toString('latin1');
    const keeping = name === NOTIFY_SETTING ? mergeNotifyFlags(value) : name === OUTPUT_LIMIT_SETTING && kept.pubsubLimitLifted ? withPubsubLifted(value) : null;
    if (keeping === null) continue;
    out ??= [...args];
    out[i + 1] = Buffer.from(keeping, 'latin1');
  }
  return out;
}

/** The client classes redis-server takes in `client-output-buffer-limit` (any case; `master` it refuses). */
const OUTPUT_CLASSES = new Set(['normal', 'slave', 'replica', 'pubsub']);
/** A size as redis-server's memtoull reads it: digits, then an optional unit. */
const SIZE = /^\d*(?:[kmg]b?|b)?$/i;
const ZERO_SIZE = /^0*(?:[kmg]b?|b)?$/i;
const SECONDS = /^\+?\d*$/;

/**
 * A `client-output-buffer-limit` value to be set (`<class> <hard> <soft> <soft seconds>`, repeated) with each
 * pubsub class's limits at `0 0 0` and the other classes as written; null when no pubsub class there has a
 * limit, or when redis-server would refuse the value (it then changes nothing, and the client gets its error).
 */
export function withPubsubLifted(value: string): string | null {
  const words = value.split(/\s+/).filter((word) => word !== '');
  if (words.length === 0 || words.length % 4 !== 0) return null;
  let limited = false;
  for (let i = 0; i < words.length; i += 4) {
    const [name, hard, soft, seconds] = words.slice(i, i + 4) as [string, string, string, string];
    const known = OUTPUT_CLASSES.has(name.toLowerCase()) && SIZE.test(hard) && SIZE.test(soft) && SECONDS.test(seconds);
    if (!known) return null;
    if (name.toLowerCase() === 'pubsub' && !(ZERO_SIZE.test(hard) && ZERO_SIZE.test(soft))) limited = true;
  }
  if (!limited) return null;
  return words.map((word, j) => (j % 4 !== 0 && words[j - (j % 4)]!.toLowerCase() === 'pubsub' ? '0' : word)).join(' ');
}

/** A setting a CONFIG GET shows changed from what the runtime keeps: the value found, and the value to set back. */
export interface ChangedSetting {
  readonly setting: typeof NOTIFY_SETTING | typeof OUTPUT_LIMIT_SETTING;
  readonly found: string;
  readonly setBack: string;
}

/** What the entries of `CONFIG GET notify-keyspace-events client-output-buffer-limit` show changed. */
export function changedSettings(entries: ReadonlyMap<string, string>, kept: KeptSettings): ChangedSetting[] {
  const changed: ChangedSetting[] = [];
  const flags = entries.get(NOTIFY_SETTING);
  const merged = flags === undefined ? null : mergeNotifyFlags(flags);
  if (flags !== undefined && merged !== null) changed.push({ setting: NOTIFY_SETTING, found: flags, setBack: merged });
  const limit = entries.get(OUTPUT_LIMIT_SETTING);
  if (kept.pubsubLimitLifted && limit !== undefined && pubsubLimitOf(limit)?.lifted === false) {
    changed.push({ setting: OUTPUT_LIMIT_SETTING, found: limit, setBack: LIFTED_PUBSUB_LIMIT });
  }
  return changed;
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
