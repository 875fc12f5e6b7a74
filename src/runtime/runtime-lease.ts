/**
 * One runtime per redis-server. Two runtimes in front of the same server (two ports, two hosts) would each
 * subscribe to its keyspace events and fire every trigger for every write, theirs, the other's and those made
 * straight on the server: every change captured twice. And they share the running mark (unclean-stops.ts): a clean
 * stop of one deletes the mark the other relies on for crash detection. So a runtime takes a lease on its server
 * (shared/keys.ts RUNTIME_LEASE_KEY; on a cluster node, one per node beside its running mark) before it marks
 * itself running or subscribes: `SET NX PX` with its id (host, pid, port, start time), refreshed on the control
 * connection every LEASE_REFRESH_MS, released (compare-and-delete) when it closes.
 *
 * A start that finds the lease held waits to learn whether the holder lives: a live holder refreshes it (its TTL
 * goes up, or another id takes it), and this runtime refuses to start (RuntimeLeaseError, naming the holder); a
 * crashed one's lease runs out within its TTL, and this runtime takes it then (`npm start` right after a SIGKILL).
 *
 * A lease lost while running (deleted, FLUSHALL, a restart of redis-server without persistence, or expired while
 * the event loop was blocked) is noticed at the next refresh: taken again when free (below), with a warning; held by
 * another runtime, the runtime is told (`onLost`) and closes. A runtime that was stopped or blocked past its
 * lease's TTL (SIGSTOP, a paused VM, a long lock timeout) must not fire on what it reads when it goes on: the
 * other runtime that took the lease meanwhile fires the same events. So the trigger scheduler asks `current`
 * before it fires, and where the last refresh is too old for the lease to be sure, confirms it (`confirm`): a
 * read, which a `CLIENT PAUSE WRITE` lets through (a refresh would wait out the pause, and every fire with it), or
 * else a refresh; a runtime that learns it `lost` the lease fires nothing more.
 *
 * A lease deleted while its holder runs and taken at once by a second runtime (an operator's DEL, or a FLUSHALL
 * sent straight to redis-server, and a second runtime started within the second before the next refresh) is still
 * sure by the clock. But the keyspace subscription covers the lease key (the runtime's own prefix), and the server
 * delivers its events on that connection ahead of the events of any write made after them: the other runtime's
 * take is a SET, so its `set` comes before the first write the other one fires for. Each event on the key
 * (`noteEvent`; not the refresh's own `expire` and `keymiss`) makes the lease unsure at once, and a refresh in
 * flight then does not make it sure again (it may have run before that SET): the scheduler confirms before it
 * fires for the next write, and learns it lost. A FLUSHALL or FLUSHDB raises no keyspace event, but the
 * subscription hears of it (keyspace-subscriber.ts onFlush) and doubts the lease too. What remains: a confirming
 * refresh that fails (an error reply, the control connection down) leaves `lost` false and the runtime fires, as
 * before; the events reach the runtime only while `notify-keyspace-events` holds `K` and `A` (set back within a
 * second when changed on the server behind its back).
 *
 * A lease found gone at a refresh is looked up again (`key`) before it is taken, as a starting runtime looks it
 * up: on a cluster node a runtime may hold it under another tag than the node's lowest slot's (slots migrated in
 * since, or a lease taken over), and a runtime started after a FLUSHALL takes the lowest slot's; taking its old
 * name again, the first would hold a second lease and both would fire.
 *
 * Not the store guard's work (library-host/store-guard.ts): it PERSISTs what it keeps and sets it back blindly,
 * where the lease lives by its TTL and must not be set over another runtime's. The refresh must run anyway, and
 * sees the loss with the same call.
 *
 * A replica's runtime writes nothing and takes no lease (`key` answers null) until its server is a primary; it is
 * tried at each refresh tick, so a promoted replica takes it, or closes if another runtime holds it.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { errorMessage, RedisCommandError, RuntimeLeaseError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { RedisConnection } from './server/redis-connection.js';
import { error as errorReply, type RespValue } from './resp/types.js';
import { RUNTIME_LEASE_KEY, runtimeLeaseKeyOfNode } from '../shared/keys.js';
import { lowestSlot, myselfOf } from '../shared/cluster-nodes.js';
import { slotTag } from '../shared/key-slot.js';
import { text } from './cluster/cluster-nodes.js';
import { hasPrefix } from '../shared/byte-prefix.js';

/**
 * The lease's TTL. Short, since a restart after a crash waits for it; long enough that a healthy runtime never
 * lets it lapse: refreshed every second, it survives four missed refreshes (a GC pause, a fork for BGSAVE, a
 * library holding the lock up to the default 500 ms `lock-redis-timeout`). A runtime blocked longer (a larger
 * lock timeout) loses it only if another runtime takes it meanwhile, and then closes at its next refresh.
 */
export const LEASE_TTL_MS = 5000;
export const LEASE_REFRESH_MS = 1000;
/** How long after a refresh was sent the lease is surely still held: its TTL less one refresh of margin. */
const SURE_MS = LEASE_TTL_MS - LEASE_REFRESH_MS;
/**
 * Events on the lease key that its holder's own refresh raises and that never give it another holder: the
 * PEXPIRE's `expire`, and the `keymiss` of its GET of a lease gone (which the `set` of its taking it again follows).
 */
const HOLDER_KEEPING_EVENTS = new Set(['expire', 'keymiss']);
const LEASE_KEY_BYTES = Buffer.from(RUNTIME_LEASE_KEY, 'latin1');
/** How often a waiting start looks at a held lease. */
const WAIT_STEP_MS = 250;

/**
 * The lease's value ends with the server's run_id (`[server <run_id>]`): a lease ending otherwise was written in
 * front of another server process and replicated or restored here (a promoted replica holds its former primary's
 * runtime's; a restarted redis-server reloads its crashed runtime's from RDB or AOF): its holder does not run in
 * front of this server, so it is taken at once rather than refused or waited for.
 */
const IS_STALE = `local function stale(v) return not v or string.sub(v, -#ARGV[3]) ~= ARGV[3] end`;
/**
 * 1: refreshed; 2: it was gone and is taken; 3: it was another server's, taken; 0: it is gone and ARGV[4] is not
 * '1' (the key is looked up again before it is taken); else the other holder's id.
 */
const REFRESH = `${IS_STALE}
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v and ARGV[4] ~= '1' then return 0 end
if stale(v) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) if v then return 3 end return 2 end
return v`;
/** {1}: taken; {2, holder}: taken over another server's; {0, holder, pttl}: held. */
const TAKE = `${IS_STALE}
local v = redis.call('GET', KEYS[1])
if stale(v) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) if v then return {2, v} end return {1} end
return {0, v, redis.call('PTTL', KEYS[1])}`;
/**
 * The lease's PTTL when it is this runtime's (ARGV[1]); -2 when it is gone; else -3 (another's). A read
 * (`no-writes`), so it runs while a `CLIENT PAUSE WRITE` holds every write, the refresh's and another runtime's take
 * alike.
 */
const CHECK = `#!lua flags=no-writes
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('PTTL', KEYS[1]) end
if not v then return -2 end
return -3`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface LeaseOptions {
  readonly control: RedisConnection;
  /** The lease's key now, or null while the runtime writes nothing (a replica, a cluster node serving no slot). */
  readonly key: () => Promise<string | null>;
  /** The port the runtime listens on, for its id. */
  readonly port: number;
  /** The server, as logs and errors name it. */
  readonly where: string;
  readonly log: Logger;
  /** Another runtime holds the lease this one held: it must close. */
  readonly onLost: (error: RuntimeLeaseError) => void;
}

/** A runtime's id as its lease holds it: who to stop, named for a person. */
export function leaseHolderId(port: number): string {
  return `pid ${process.pid} on host ${hostname()}, port ${port}, since ${new Date().toISOString()} (${randomBytes(4).toString('hex')})`;
}

export class RuntimeLease {
  readonly #options: LeaseOptions;
  /** The lease's value: this runtime's id and its server's. */
  readonly #holder: string;
  /** The value's end that names the server (`[server <run_id>]`). */
  readonly #server: string;
  #held: string | null = null;
  /** Until when (performance.now()) the lease is surely still this runtime's, going by its last refresh. */
  #sureUntil = 0;
  #lost = false;
  /** Events on the lease key seen so far that may have given it another holder (noteEvent). */
  #doubts = 0;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: LeaseOptions, runId: string) {
    this.#options = options;
    this.#server = ` [server ${runId}]`;
    this.#holder = leaseHolderId(options.port) + this.#server;
  }

  /**
   * Takes the lease (waiting out a crashed holder's), or throws RuntimeLeaseError when a live runtime holds it.
   * Where `key` answers null the lease is taken at a later tick.
   */
  static async take(options: LeaseOptions): Promise<RuntimeLease> {
    const info = await options.control.call(['INFO', 'server']);
    const runId = /run_id:(\w+)/.exec(textOf(info) ?? '')?.[1];
    if (runId === undefined) {
      options.log.warn({ reply: info.type === 'error' ? info.value : info.type }, 'INFO server gave no run_id: a lease replicated from a former primary, or reloaded after a restart of redis-server, is waited for as if its holder ran here');
    }
    const lease = new RuntimeLease(options, runId ?? 'unknown');
    const key = await options.key();
    if (key !== null) await lease.#takeWaiting(key);
    lease.#schedule();
    return lease;
  }

  /**
   * No other runtime can hold the lease now: this one holds none (a replica, which fires nothing anyway), or it
   * was refreshed so recently that it cannot have expired since. Sure for the TTL counted from when the last
   * refresh was sent, less one refresh interval of margin.
   */
  get current(): boolean {
    return this.#held === null || performance.now() < this.#sureUntil;
  }

  /** Another runtime took the lease: this one must fire nothing more (it is closing). */
  get lost(): boolean {
    return this.#lost;
  }

  /**
   * An event on the lease key, as the keyspace subscription delivers it: a `del`, `set`, `expired`… may be another
   * runtime's taking it (after a DEL or a FLUSHALL straight on redis-server), so the lease is no longer sure until
   * a refresh sent after it answers. The subscription delivers it ahead of the events of every write made after
   * it, so the scheduler confirms before it fires for them.
   */
  noteEvent(event: { readonly event: string }): void {
    if (HOLDER_KEEPING_EVENTS.has(event.event)) return;
    this.#doubts++;
    this.#sureUntil = 0;
  }

  /**
   * Makes the lease current again, after any refresh in flight, unless that one did. A read first, since a write
   * waits out a `CLIENT PAUSE WRITE` (and every fire with it): the lease still this runtime's with more than a
   * refresh interval left is sure for that long. `paused`: a pause sent through this runtime holds every write now,
   * so no other runtime can take the lease while it lasts: found this runtime's or gone, it is enough for this
   * fire (the next one reads again). Otherwise a refresh keeps it, takes it again, or learns it lost.
   */
  async confirm(paused = false): Promise<void> {
    const confirmed = this.#tick.then(async () => {
      if (this.current || this.#closed) return;
      const found = await this.#look();
      if (found === 'sure' || (paused && (found === 'ours' || found === 'gone'))) return;
      await this.#refresh();
    });
    this.#tick = confirmed;
    await confirmed;
  }

  /** Stops refreshing and deletes the lease if it is still this runtime's. */
  async release(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#tick;
    if (this.#held === null) return;
    const key = this.#held;
    this.#held = null;
    const reply = await callKeepingErrors(this.#options.control, ['EVAL', RELEASE, '1', key, this.#holder]);
    if (reply.type === 'error') this.#options.log.warn({ key, err: reply.value }, 'the runtime lease could not be released: the next runtime waits for it to expire');
  }

  async #takeWaiting(key: string): Promise<void> {
    const { control, log, where } = this.#options;
    let seen: { holder: string; pttl: number } | null = null;
    let deadline = Infinity;
    for (;;) {
      const sent = performance.now();
      const doubts = this.#doubts;
      const reply = await callKeepingErrors(control, ['EVAL', TAKE, '1', key, this.#holder, String(LEASE_TTL_MS), this.#server]);
      const [taken, holderReply, pttlReply] = reply.type === 'array' ? reply.value : [];
      if (reply.type === 'error' || taken === undefined) throw new RuntimeLeaseError(`taking the runtime lease on redis-server ${where} failed: ${reply.type === 'error' ? reply.value : 'unexpected reply'}`, { context: { key } });
      if (integer(taken) === 2) log.warn({ key, previous: textOf(holderReply) }, 'the runtime lease held here was of a runtime in front of another redis-server process (replicated from a former primary, or reloaded after a restart of redis-server): taken');
      if (integer(taken) >= 1) {
        this.#held = key;
        this.#sure(sent, doubts);
        if (seen !== null) log.info({ key, previous: seen.holder }, 'the runtime lease is taken: its holder had stopped without releasing it');
        return;
      }
      const holder = textOf(holderReply);
      const pttl = integer(pttlReply);
      // Refreshed (its TTL went up, or it has none), or taken by yet another runtime: that holder is alive.
      if (holder !== null && (pttl < 0 || (seen !== null && (holder !== seen.holder || pttl > seen.pttl)) || performance.now() > deadline)) {
        throw heldBy(holder, key, where);
      }
      if (holder !== null && seen === null) {
        deadline = performance.now() + pttl + LEASE_REFRESH_MS;
        log.warn({ key, holder, expiresInMs: pttl },
          `another runtime holds the lease on redis-server ${where}: ${holder}; waiting for it to expire (it stopped without releasing it: a crash?), or for it to be refreshed (it runs: this runtime then refuses to start)`);
      }
      if (holder !== null) seen = { holder, pttl };
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(WAIT_STEP_MS, pttl + 1))));
    }
  }

  /**
   * The lease was found this runtime's by a call sent at `sent`: sure for SURE_MS from then, unless an event on
   * its key came in meanwhile (`doubts` was the count at the send). That event may have come after the call ran
   * (another runtime's SET after a DEL): only a call sent after it tells.
   */
  #sure(sent: number, doubts: number): void {
    if (this.#doubts === doubts) this.#sureUntil = sent + SURE_MS;
  }

  /**
   * What a read finds of the lease: `sure` (this runtime's with more than a refresh interval left, so nobody else
   * can hold it before that runs out unless its key is deleted or set meanwhile, an event that comes in order,
   * noteEvent; sure from the read's send until then), `ours` with less left, `gone`, or `other` (another's, or
   * the read failed).
   */
  async #look(): Promise<'sure' | 'ours' | 'gone' | 'other'> {
    const key = this.#held;
    if (key === null) return 'other';
    const sent = performance.now();
    const doubts = this.#doubts;
    const reply = await callKeepingErrors(this.#options.control, ['EVAL', CHECK, '1', key, this.#holder]).catch(() => null);
    if (reply?.type !== 'integer' || reply.value === -3n) return 'other';
    if (reply.value === -2n) return 'gone';
    if (reply.value <= BigInt(LEASE_REFRESH_MS) || this.#doubts !== doubts) return 'ours';
    this.#sureUntil = sent + Math.min(Number(reply.value), LEASE_TTL_MS) - LEASE_REFRESH_MS;
    return 'sure';
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#refresh().then(() => this.#schedule());
    }, LEASE_REFRESH_MS);
    this.#timer.unref();
  }

  /**
   * One refresh: keeps the lease, takes it again when gone, or tells onLost when another runtime holds it. A lease
   * gone is looked up again (`key`) before it is taken, as a starting runtime looks it up: on a cluster node, a
   * runtime started after a FLUSHALL names it with the node's lowest slot, where this one's may have another tag
   * (slots migrated in since, or a lease taken over): taking the old name again, both would hold a lease.
   */
  async #refresh(): Promise<void> {
    const { control, log, where, onLost } = this.#options;
    try {
      let key = this.#held ?? (await this.#options.key());
      let gone = false;
      let reply: RespValue;
      let sent: number;
      let doubts: number;
      for (;;) {
        if (key === null || this.#closed) {
          if (gone) this.#held = null;
          return;
        }
        sent = performance.now();
        doubts = this.#doubts;
        const mayTake = gone || this.#held === null ? '1' : '0';
        reply = await callKeepingErrors(control, ['EVAL', REFRESH, '1', key, this.#holder, String(LEASE_TTL_MS), this.#server, mayTake]);
        if (gone || reply.type !== 'integer' || reply.value !== 0n) break;
        // Gone: not sure any more (a fire now waits for this refresh), and looked up again.
        gone = true;
        this.#sureUntil = 0;
        key = await this.#options.key();
      }
      if (reply.type === 'error') {
        // MOVED (its slot resharded away) or READONLY (the node became a replica): looked up again next time.
        log.warn({ key, err: reply.value }, 'refreshing the runtime lease failed; trying again');
        // A lease found gone stays unsure, so the next fire waits for the next try.
        if (/^(MOVED|ASK|READONLY)\b/.test(reply.value)) this.#held = null;
        return;
      }
      const taken = this.#held === null;
      if (reply.type === 'integer') {
        this.#held = key;
        this.#sure(sent, doubts);
        if (reply.value === 3n) log.warn({ key, where }, 'the runtime lease held here was of a runtime in front of another redis-server process (replicated from a former primary, or reloaded after a restart of redis-server): taken');
        else if (gone) log.warn({ key, where }, 'the runtime lease was gone (deleted, expired, a FLUSHALL or redis-server restarted without persistence): taken again');
        else if (taken) log.info({ key }, 'the runtime lease is taken: the server is a primary now');
        return;
      }
      const holder = textOf(reply) ?? 'a value that is no runtime id';
      this.#held = null;
      this.#closed = true;
      this.#lost = true;
      const error = heldBy(holder, key, where);
      log.error({ key, holder }, `another runtime holds the lease on redis-server ${where}: ${holder}; two runtimes would both fire every trigger, so this one closes`);
      onLost(error);
    } catch (error) {
      log.warn({ err: errorMessage(error) }, 'refreshing the runtime lease failed; trying again');
    }
  }
}

/**
 * A cluster node's lease key, beside its running mark: named with the node's id and the tag of a slot it serves.
 * A lease already on the node (SCAN sees the node's own keys only) is the one: its holder's, alive or crashed,
 * whose slot need not be the node's lowest any more (slots migrated in); without one, the tag of the node's
 * lowest slot, which every runtime in front of the node computes alike. Null while the node is a replica or
 * serves no slot.
 */
export async function leaseKeyOfClusterNode(control: RedisConnection): Promise<string | null> {
  const myself = myselfOf(text(await control.call(['CLUSTER', 'NODES'])));
  const slot = myself === undefined || myself.replicaOf !== null ? null : lowestSlot(myself);
  if (slot === null) return null;
  const pattern = runtimeLeaseKeyOfNode(myself!.id, '*').replace('{*}', '*');
  let cursor = '0';
  do {
    const reply = await control.call(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '10000']);
    if (reply.type !== 'array') break;
    const [next, found] = reply.value;
    cursor = textOf(next) ?? '0';
    const key = found?.type === 'array' ? textOf(found.value[0]) : null;
    if (key !== null) return key;
  } while (cursor !== '0');
  return runtimeLeaseKeyOfNode(myself!.id, slotTag(slot));
}

/** Whether `key` is a runtime lease: the server's, or a cluster node's (runtimeLeaseKeyOfNode). */
export function isLeaseKey(key: Buffer): boolean {
  return hasPrefix(key, LEASE_KEY_BYTES);
}

function heldBy(holder: string, key: string, where: string): RuntimeLeaseError {
  return new RuntimeLeaseError(
    `another runtime already runs in front of redis-server ${where}: ${holder} holds its lease (${key}); two runtimes over one redis-server would each fire every trigger, capturing every write twice`,
    {
      context: {
        key,
        holder,
        suggestion: `stop that runtime first (its lease is released at a clean stop; a crashed runtime's expires within ${LEASE_TTL_MS / 1000} s, and a start waits for it), or point this one at another redis-server`,
      },
    },
  );
}

/**
 * control.call with the server's error reply returned, not thrown (RedisConnection.call throws it): the MOVED or
 * READONLY of a node demoted or resharded away must let the lease go, where a throw left it held, refreshed in vain
 * every second (a warning each time) and released at close with a MOVED the runtime emitted as an 'error'.
 */
async function callKeepingErrors(control: RedisConnection, args: string[]): Promise<RespValue> {
  try {
    return await control.call(args);
  } catch (error) {
    if (error instanceof RedisCommandError) return errorReply(error.message);
    throw error;
  }
}

function integer(value: RespValue | undefined): number {
  return value?.type === 'integer' ? Number(value.value) : Number.NaN;
}

function textOf(value: RespValue | undefined): string | null {
  return value?.type === 'blob' || value?.type === 'verbatim' ? value.value.toString('utf8') : value?.type === 'simple' ? value.value : null;
}
