/**
 * Whether a server the runtime cannot run CONFIG on already emits the keyspace notifications the runtime needs
 * (notify-keyspace-events.ts: every class, `K`, `m`), found out by trying: on a connection of its own the runtime
 * subscribes to the keyspace channel of a probe key of its own (`__writebehind_runtime__:notify-probe:…`, a name
 * its triggers never fire for) and to the keyevent channels of the events it makes, writes that key once per
 * class on the control connection (SET, DEL, RPUSH, SADD, HSET, ZADD, XADD, a SET PX 1 read after it expired:
 * `expired` and `keymiss`), deletes it, and publishes a marker: Redis delivers a subscriber's messages in the
 * order it made them, so every event of the probe has arrived once the marker has. A class counts when its
 * event came on either channel; `K` when any came on the keyspace channel.
 *
 * Two classes cannot be probed harmlessly: evictions (`e`: the probe would have to fill memory) and module key
 * types (`d`). When the server may evict (`maxmemory` with an evicting policy) the runtime says that `e` is
 * unverified; `d` matters only to keys of a module's own type.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, RedisCommandError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { RedisAddress } from '../../shared/redis-address.js';
import { myselfOf, lowestSlot } from '../../shared/cluster-nodes.js';
import { slotTag } from '../../shared/key-slot.js';
import { isClusterEnabled, text } from '../cluster/cluster-nodes.js';
import { textOf, type RespValue } from '../resp/types.js';
import { missingFlagsError, REQUIRED_FLAGS } from './kept-settings.js';
import { RedisConnection, type UnsolicitedSink } from './redis-connection.js';

/** The event each probed class makes, in redis-server's order of the classes; `m` last. */
export const PROBED_EVENTS: readonly (readonly [flag: string, event: string])[] = [
  ['g', 'del'],
  ['$', 'set'],
  ['l', 'rpush'],
  ['s', 'sadd'],
  ['h', 'hset'],
  ['z', 'zadd'],
  ['x', 'expired'],
  ['t', 'xadd'],
  ['m', 'keymiss'],
];

/** How long the probe waits for its marker (the events come before it): only a stuck server takes this long. */
const PROBE_TIMEOUT_MS = 5_000;
/** The database the control connection is on (it never SELECTs). */
const CONTROL_DB = 0;

/**
 * The flags the probe found missing: `K` when no event came on the keyspace channel, then each class whose
 * event came on no channel. Empty when the server emits everything probed.
 */
export function missingProbedFlags(keyspaceEvents: ReadonlySet<string>, keyeventEvents: ReadonlySet<string>): string[] {
  const missing = keyspaceEvents.size === 0 ? ['K'] : [];
  for (const [flag, event] of PROBED_EVENTS) if (!keyspaceEvents.has(event) && !keyeventEvents.has(event)) missing.push(flag);
  return missing;
}

/**
 * Throws a ConfigError naming the missing flags and the redis.conf fix unless the server emits what the runtime
 * needs; `configError` is the server's reply to CONFIG GET, quoted in the log and the error.
 */
export async function probeKeyspaceNotifications(control: RedisConnection, address: RedisAddress, configError: string, log: Logger): Promise<void> {
  const unavailable = `its CONFIG command is unavailable to the runtime (${configError.trim()})`;
  const key = await probeKeyName(control, address, unavailable);
  const marker = `__writebehind_runtime__:marker:notify-probe:${process.pid}:${randomBytes(6).toString('hex')}`;
  const keyspaceChannel = `__keyspace@${CONTROL_DB}__:${key}`;
  const keyeventPrefix = `__keyevent@${CONTROL_DB}__:`;
  const subscriber = await ProbeSubscriber.open(address);
  try {
    await subscriber.subscribe([keyspaceChannel, marker], true);
    // Keyevent channels only tell a missing `K` from a missing class; a user denied them still gets an answer.
    await subscriber.subscribe(PROBED_EVENTS.map(([, event]) => keyeventPrefix + event), false);
    try {
      await makeProbeEvents(control, key);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConfigError(
        `cannot check the keyspace notifications of the redis-server at ${address.where}: ${unavailable}, and the probe write of its own key ${key} was refused (${reason}). ` +
          `Make sure its redis.conf has \`notify-keyspace-events ${REQUIRED_FLAGS}\`, and let the runtime’s user run CONFIG GET/SET or write ${key.split(':').slice(0, 2).join(':')}:*.`,
      );
    }
    await control.call(['PUBLISH', marker, 'end']);
    const keyspaceEvents = new Set<string>();
    const keyeventEvents = new Set<string>();
    await subscriber.readUntil(marker, PROBE_TIMEOUT_MS, (channel, payload) => {
      if (channel === keyspaceChannel) keyspaceEvents.add(payload);
      else if (channel.startsWith(keyeventPrefix) && payload === key) keyeventEvents.add(channel.slice(keyeventPrefix.length));
    });
    const missing = missingProbedFlags(keyspaceEvents, keyeventEvents);
    if (missing.length > 0) throw missingFlagsError(address, missing, unavailable);
  } finally {
    await control.send(['DEL', key]).catch(() => undefined);
    await subscriber.close();
  }
  log.info({ redis: address.where, config: configError.trim() }, 'CONFIG is unavailable: the server’s notify-keyspace-events was verified by probe (every class the probe can make, K and m)');
  await warnIfEvictionsUnverified(control, log);
}

/** `__writebehind_runtime__:notify-probe:<pid>:<random>`, on a cluster node with the tag of a slot it serves. */
async function probeKeyName(control: RedisConnection, address: RedisAddress, unavailable: string): Promise<string> {
  const key = `__writebehind_runtime__:notify-probe:${process.pid}:${randomBytes(6).toString('hex')}`;
  const info = await control.send(['INFO', 'cluster']);
  if (!isClusterEnabled(text(info))) return key;
  const myself = myselfOf(text(await control.call(['CLUSTER', 'NODES'])));
  const slot = myself === undefined || myself.replicaOf !== null ? null : lowestSlot(myself);
  if (slot === null) {
    throw new ConfigError(
      `cannot check the keyspace notifications of the redis-server at ${address.where}: ${unavailable}, and the probe needs a primary that serves a slot to write its own key. ` +
        `Make sure its redis.conf has \`notify-keyspace-events ${REQUIRED_FLAGS}\`, and let the runtime’s user run CONFIG GET/SET (or start the runtime once the node serves a slot).`,
    );
  }
  return `${key}:{${slotTag(slot)}}`;
}

/** One event of each probed class on `key`, which is left deleted. */
async function makeProbeEvents(control: RedisConnection, key: string): Promise<void> {
  const commands: string[][] = [
    ['SET', key, '1'],
    ['DEL', key],
    ['RPUSH', key, '1'],
    ['DEL', key],
    ['SADD', key, '1'],
    ['DEL', key],
    ['HSET', key, 'f', '1'],
    ['DEL', key],
    ['ZADD', key, '1', '1'],
    ['DEL', key],
    ['XADD', key, '*', 'f', '1'],
    ['DEL', key],
    ['SET', key, '1', 'PX', '1'],
  ];
  for (const command of commands) await control.call(command);
  // Read once it expired: `expired` (now, or already by the server's active expiry), then `keymiss`.
  for (let attempt = 0; attempt < 50; attempt++) {
    await sleep(2);
    if ((await control.call(['GET', key])).type === 'null') return;
  }
  throw new RedisCommandError(`the probe key did not expire (a SET PX 1 was still there after 100 ms)`);
}

/** Evictions cannot be probed: when the server may evict, say that `e` is not verified. */
async function warnIfEvictionsUnverified(control: RedisConnection, log: Logger): Promise<void> {
  const memory = text(await control.send(['INFO', 'memory']));
  const maxmemory = /^maxmemory:(\d+)\s*$/m.exec(memory)?.[1];
  const policy = /^maxmemory_policy:(\S+)\s*$/m.exec(memory)?.[1];
  if (maxmemory === '0' || policy === 'noeviction') return;
  log.warn(
    { maxmemory: maxmemory ?? 'unknown', policy: policy ?? 'unknown' },
    'CONFIG is unavailable and the server may evict keys: the probe cannot check that it emits eviction events (notify-keyspace-events `e`, part of `A`); without them no trigger fires for an evicted key',
  );
}

/** The probe's subscription: a connection of its own, whose unsolicited replies are read as a queue. */
class ProbeSubscriber {
  readonly #connection: RedisConnection;
  readonly #replies: ReplyQueue;

  private constructor(connection: RedisConnection, replies: ReplyQueue) {
    this.#connection = connection;
    this.#replies = replies;
  }

  static async open(address: RedisAddress): Promise<ProbeSubscriber> {
    const replies = new ReplyQueue();
    const connection = await RedisConnection.open(address, 'notify-probe', { timeoutMs: PROBE_TIMEOUT_MS, unsolicited: replies });
    return new ProbeSubscriber(connection, replies);
  }

  /** SUBSCRIBE, waiting for each channel's confirmation; a refusal throws when `required`, else is ignored. */
  async subscribe(channels: readonly string[], required: boolean): Promise<void> {
    this.#connection.post(['SUBSCRIBE', ...channels]);
    for (let confirmed = 0; confirmed < channels.length; confirmed++) {
      const reply = await this.#replies.next(PROBE_TIMEOUT_MS);
      if (reply.type !== 'error') continue;
      if (required) throw new RedisCommandError(reply.value, { context: { command: 'SUBSCRIBE' } });
      return;
    }
  }

  /** Hands each message to `onMessage` until one comes on `marker`. */
  async readUntil(marker: string, timeoutMs: number, onMessage: (channel: string, payload: string) => void): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = await this.#replies.next(deadline - Date.now());
      if (reply.type !== 'array' || reply.value.length !== 3 || textOf(reply.value[0]!) !== 'message') continue;
      const channel = textOf(reply.value[1]!) ?? '';
      if (channel === marker) return;
      onMessage(channel, textOf(reply.value[2]!) ?? '');
    }
  }

  close(): Promise<void> {
    return this.#connection.close();
  }
}

/** The replies a subscribed connection hands its sink, taken one at a time. */
class ReplyQueue implements UnsolicitedSink {
  readonly #replies: RespValue[] = [];
  #wake: (() => void) | undefined;
  #closed: Error | undefined;

  reply(value: RespValue): void {
    this.#replies.push(value);
    this.#wake?.();
  }

  closed(error: Error): void {
    this.#closed = error;
    this.#wake?.();
  }

  async next(timeoutMs: number): Promise<RespValue> {
    const deadline = Date.now() + timeoutMs;
    while (this.#replies.length === 0) {
      if (this.#closed) throw this.#closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new RedisCommandError(`redis-server did not answer the notify-keyspace-events probe within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return this.#replies.shift()!;
  }
}
