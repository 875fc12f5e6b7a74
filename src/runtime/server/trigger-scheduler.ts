/**
 * Decides what the keyspace events of an execution fire, and runs everything under the execution lock.
 *
 * - Events caused by a client command (or seen with no command in flight: active expiry, eviction, a blocked
 *   command served later) fire the keyspace triggers whose prefix matches, and hand new stream entries to the
 *   stream triggers.
 * - Events caused by library code (functions, trigger callbacks, stream callbacks, async work) fire no
 *   keyspace trigger, as RedisGears suppresses notifications inside them — except `expired` and `evicted`,
 *   which the server may raise on its own in that window and which we cannot tell apart. Stream triggers are
 *   still fed (RedisGears fires them for library writes too).
 * - After library code ran (`host.callCount` moved), the markers that rode behind its calls (or, where a call
 *   could carry none, a marker published on the control connection) collect the events its calls caused; the
 *   loop repeats until library code stops calling Redis. When every call since the last marker touched only
 *   keys no trigger watches (`host.lastEventfulCall`), there is nothing to fire or suppress: like a
 *   shared-lock command's, their events are left to the next marker.
 * - A sync keyspace callback cut by CLUSTERDOWN (the cluster went down after the write that fired it ran; in
 *   Redis the two are one execution unit) is fired again, under the lock, before the next markered command is
 *   sent and on a timer (REFIRE_FIRST_MS doubling to REFIRE_MAX_MS) until the cluster takes its calls.
 * - While the server is a replica (RoleGate), nothing fires: its events are those of replicated writes, for
 *   which the primary's runtime fired the triggers already. Every command that may write is then markered, so
 *   that it runs under the exclusive lock, where the role is confirmed first (replication-role.ts).
 */
import type { Logger } from '../../shared/log.js';
import { errorMessage } from '../../shared/errors.js';
import type { GearsHost, KeyspaceEvent, LockedExecutor, MarkerSource } from '../gears-host.js';
import { ExecutionLock } from './execution-lock.js';
import { ClientPause } from './client-pause.js';
import type { KeyspaceSubscriber } from './keyspace-subscriber.js';
import type { RedisConnection } from './redis-connection.js';
import { streamsTouched } from './streams-touched.js';
import type { RespValue } from '../resp/types.js';

/** Longest the scheduler reads the subscription synchronously for markers already published (ms). */
export const MARKER_PUMP_MS = 1;

/** First wait before firing again the callbacks CLUSTERDOWN cut (ms); doubled per attempt up to REFIRE_MAX_MS. */
export const REFIRE_FIRST_MS = 50;
export const REFIRE_MAX_MS = 1000;

/** Events the server raises by itself: never attributable to library code, so never suppressed. */
export const SERVER_EVENTS = new Set(['expired', 'evicted']);

/** The server's role, as the runtime last saw it (src/runtime/replication/replication-role.ts). */
export interface RoleGate {
  /** A primary whose triggers may fire: false on a replica, and on a primary that failed its promotion check. */
  readonly isPrimary: boolean;
  /** With the exclusive lock held: asks the server again and applies a change. */
  confirm(): Promise<void>;
}

/** The runtime's lease on its server (src/runtime/runtime-lease.ts): one runtime fires per server. */
export interface LeaseGate {
  /** Surely still this runtime's, by its last refresh. */
  readonly current: boolean;
  /** Taken by another runtime: this one fires nothing more. */
  readonly lost: boolean;
  /**
   * Learns whether it is still held, reading first: after it, `lost` tells whether another runtime took it.
   * `paused`: a CLIENT PAUSE sent through the runtime holds every write now, another runtime's take included.
   */
  confirm(paused: boolean): Promise<void>;
}

export interface TriggerSchedulerOptions {
  readonly control: RedisConnection;
  /**
   * Triggers fire only while this runtime holds it: a runtime stopped past its lease's TTL while another took
   * over reads, when it goes on, events the other fires too. Absent: no lease (tests of the scheduler alone).
   */
  readonly lease?: LeaseGate;
  /** The keys of a command (null: unknown), from the command table. */
  readonly keysOf: (args: readonly Buffer[]) => Buffer[] | null;
  readonly markerChannel: string;
  readonly log: Logger;
}

export class TriggerScheduler implements LockedExecutor, MarkerSource {
  readonly lock = new ExecutionLock();
  /** A CLIENT PAUSE sent through the runtime: while it lasts, markers are fenced without a PUBLISH. */
  readonly pause = new ClientPause();
  readonly #control: RedisConnection;
  readonly #keysOf: (args: readonly Buffer[]) => Buffer[] | null;
  readonly #markerChannel: string;
  readonly #log: Logger;
  #host: GearsHost | undefined;
  #subscriber: KeyspaceSubscriber | undefined;
  #role: RoleGate | undefined;
  readonly #lease: LeaseGate | undefined;
  #backgroundScheduled = false;
  /** Shared-lock commands completed since the last marker: their (untriggering) events may still be in flight. */
  #eventsMayBeInFlight = false;
  /** The last marker handed out to ride behind a library call. */
  #lastRidden = 0;
  #refireTimer: NodeJS.Timeout | undefined;
  #refireDelay = REFIRE_FIRST_MS;
  #closed = false;

  constructor(options: TriggerSchedulerOptions) {
    this.#control = options.control;
    this.#lease = options.lease;
    this.#keysOf = options.keysOf;
    this.#markerChannel = options.markerChannel;
    this.#log = options.log;
  }

  /** Completes the wiring: the host needs this executor to be built, the scheduler needs the host to run. */
  attach(host: GearsHost, subscriber: KeyspaceSubscriber): void {
    this.#host = host;
    this.#subscriber = subscriber;
    host.useMarkers?.(this);
  }

  /** Gives the scheduler the server's role: until then the server counts as a primary. */
  useRole(role: RoleGate): void {
    this.#role = role;
  }

  /** The server is a primary (as last seen): triggers fire. */
  get isPrimary(): boolean {
    return this.#role?.isPrimary ?? true;
  }

  /**
   * With the exclusive lock held, before a command that may write: a runtime that believes its server a replica
   * asks again, so a server promoted since the last check does not take the write with its triggers off.
   */
  async confirmRole(): Promise<void> {
    if (this.#role && !this.#role.isPrimary) await this.#role.confirm();
  }

  /** Sync keyspace callbacks cut by CLUSTERDOWN wait to be fired again. */
  get hasInterruptedTriggers(): boolean {
    return (this.#host?.interruptedTriggers ?? 0) > 0;
  }

  /**
   * With the exclusive lock held: fires again the callbacks CLUSTERDOWN cut, as library work (their calls' events
   * fire nothing). Those cut again wait for the timer.
   */
  async refireInterrupted(): Promise<void> {
    if (!this.isPrimary || !this.hasInterruptedTriggers) return;
    await this.#confirmLease();
    if (this.#lease?.lost === true) return;
    const host = this.host;
    await this.runHeld(() => host.refireInterruptedTriggers?.());
    if (this.hasInterruptedTriggers) this.#scheduleRefire();
    else this.#refireDelay = REFIRE_FIRST_MS;
  }

  /** Stops the timer that fires cut callbacks again. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#refireTimer);
  }

  #scheduleRefire(): void {
    if (this.#refireTimer !== undefined || this.#closed) return;
    const delay = this.#refireDelay;
    this.#refireDelay = Math.min(delay * 2, REFIRE_MAX_MS);
    this.#refireTimer = setTimeout(() => {
      this.#refireTimer = undefined;
      void this.#refireLocked().catch((error: unknown) => {
        this.#log.error({ err: errorMessage(error) }, 'firing again the triggers CLUSTERDOWN cut failed');
        this.#scheduleRefire();
      });
    }, delay);
    this.#refireTimer.unref();
  }

  async #refireLocked(): Promise<void> {
    const release = await this.lock.exclusive();
    try {
      await this.refireInterrupted();
    } finally {
      release();
    }
  }

  /** MarkerSource: a marker for the library host to pipeline behind a call of its own. */
  open(): ReturnType<MarkerSource['open']> {
    const marker = this.openMarker();
    this.#lastRidden = marker.seq;
    return marker;
  }

  /**
   * A new marker, awaited from now on. Its events are awaited only after the PUBLISH is sent, and the
   * subscription may fail before (redis-server restarting): that rejection must not go unhandled, which would
   * end the runtime process.
   */
  openMarker(): ReturnType<MarkerSource['open']> & { readonly seq: number } {
    const subscriber = this.subscriber;
    const seq = subscriber.nextMarker();
    const events = subscriber.waitForMarker(seq);
    events.catch(() => undefined);
    return { seq, command: this.#markerArgs(seq), events, cancel: () => subscriber.cancel(seq) };
  }

  /**
   * Whether a marker may follow a command of `user` (undefined: the runtime's own) on its connection: not while a
   * pause holds PUBLISH, nor for a user the server might refuse it, whose refusal would land in ACL LOG. Otherwise
   * the marker is a fence() once the command's reply is in.
   */
  markerRides(user: string | undefined): boolean {
    if (this.pause.active) return false;
    return user === undefined || (this.host.mayPublish?.(user, this.#markerChannel) ?? true);
  }

  /** `PUBLISH <marker channel> <seq>`. */
  #markerArgs(seq: number): string[] {
    return ['PUBLISH', this.#markerChannel, String(seq)];
  }

  get host(): GearsHost {
    if (!this.#host) throw new Error('TriggerScheduler used before attach()');
    return this.#host;
  }

  get subscriber(): KeyspaceSubscriber {
    if (!this.#subscriber) throw new Error('TriggerScheduler used before attach()');
    return this.#subscriber;
  }

  /**
   * Whether a command on `key` may fire a trigger. A read-only command fires keyspace triggers (keymiss) but
   * never a stream trigger, which reacts to new entries only: the worker's XRANGE on a capture stream needs no
   * marker and no exclusive lock.
   */
  isRelevant = (key: Buffer, readOnly = false): boolean => {
    if (!this.isPrimary) return !readOnly;
    return this.isWatched(key, readOnly);
  };

  /** Whether a trigger could care about an event on `key`: never on a replica (the subscriber drops the rest). */
  isWatched = (key: Buffer, readOnly = false): boolean => {
    const host = this.#host;
    return this.isPrimary && host !== undefined && (host.matchesKeyspaceTrigger(key) || (!readOnly && host.matchesStreamTrigger(key)));
  };

  /** An event on a key of the library store (KeyspaceSubscriberOptions.onStoreEvent): the host looks at its store. */
  storeEvent = (event: KeyspaceEvent): void => {
    this.#host?.storeEvent?.(event);
  };

  /** A database was flushed (KeyspaceSubscriberOptions.onFlush): the host looks at its whole store. */
  storeFlushed = (): void => {
    this.#host?.storeFlushed?.();
  };

  /** Publishes marker `seq` on the control connection (the command's own connection could not). */
  async publishMarker(seq: number): Promise<void> {
    await this.#control.call(this.#markerArgs(seq));
  }

  /** Every event caused by work whose replies are already in: publishes a marker and waits for it. */
  async collectEvents(): Promise<KeyspaceEvent[]> {
    const marker = this.openMarker();
    if (this.pause.active) {
      this.subscriber.fence(marker.seq);
    } else {
      try {
        await this.#control.call(marker.command);
      } catch (error) {
        marker.cancel();
        throw error;
      }
    }
    const collected = await marker.events;
    this.#eventsMayBeInFlight = false;
    return collected;
  }

  /** A shared-lock command got its reply: its events may reach the subscriber after the next exclusive section starts. */
  noteSharedCommandDone(): void {
    this.#eventsMayBeInFlight = true;
  }

  /** Marks that the caller's own marker has collected everything earlier. */
  noteEventsCollected(): void {
    this.#eventsMayBeInFlight = false;
  }

  /**
   * Called, with the exclusive lock held, before library code runs: events of earlier commands still in flight
   * are collected and processed as client events now, so that the library window's marker does not take them
   * for the library's own (and suppress them).
   */
  async beforeLibraryWork(): Promise<void> {
    if (!this.#eventsMayBeInFlight) return;
    await this.settleClientEvents(await this.collectEvents());
  }

  /** Fires what a client command's events fire, then settles everything library code did in consequence. */
  async settleClientEvents(events: readonly KeyspaceEvent[]): Promise<void> {
    const host = this.host;
    const before = host.callCount;
    await this.#confirmLease();
    this.#fire(events.filter((event) => host.matchesKeyspaceTrigger(event.key)), events);
    await this.settleLibraryWork(before);
  }

  /**
   * The read to send ahead of the library work a client command on one key may start (library-host/read-ahead.ts).
   * Only for a connection on which the read leaves no trace the command would not: its user may run anything
   * (no denied read in ACL LOG, its marker PUBLISH allowed) and it asked for no CLIENT TRACKING; never on a
   * replica, where nothing fires.
   */
  openReadAhead(args: readonly Buffer[], session: { readonly user: string; readonly mayTrackReads: boolean }): Buffer[] | null {
    const host = this.host;
    // Paused, the command's marker is a fence read after its reply, which a read pipelined behind it would cross.
    if (host.openReadAhead === undefined || session.mayTrackReads || !this.isPrimary || this.pause.active) return null;
    const keys = this.#keysOf(args);
    if (keys === null || keys.length !== 1) return null;
    return host.openReadAhead(keys[0]!, session.user);
  }

  /** The read sent ahead came back, in `db`, with `reply`: the window's first library call may take it. */
  offerReadAhead(argv: readonly Buffer[], db: number, reply: RespValue, events: Promise<KeyspaceEvent[]>): void {
    this.host.offerReadAhead?.(argv, db, reply, events);
  }

  /**
   * Settles the events of a read sent ahead that no library call took, as the library work it stood for; null
   * when the read was taken (the usual case: nothing to await).
   */
  settleReadAhead(): Promise<void> | null {
    const untaken = this.closeReadAhead();
    return untaken === null ? null : untaken.then(async (events) => {
      await this.#confirmLease();
      this.#fireLibraryEvents(events);
    });
  }

  /** Ends the read-ahead window (also when the command failed); the events of an untaken read, or null. */
  closeReadAhead(): Promise<KeyspaceEvent[]> | null {
    return this.host.closeReadAhead?.() ?? null;
  }

  /** Settles the effects of library code that ran since `host.callCount` was `before`. */
  async settleLibraryWork(before: number): Promise<void> {
    const host = this.host;
    let seen = before;
    while (host.callCount !== seen) {
      const eventful = (host.lastEventfulCall ?? host.callCount) > seen;
      seen = host.callCount;
      const ridden = host.takeCallMarkers?.() ?? { events: [], complete: false };
      // The markers came back with the calls' replies: read them now rather than on the next event-loop turn.
      if (ridden.events.length > 0) this.subscriber.pumpUntilMarker(this.#lastRidden, MARKER_PUMP_MS);
      const events: KeyspaceEvent[] = [];
      for (const marker of ridden.events) events.push(...(await marker));
      if (!eventful && ridden.events.length === 0) {
        this.noteSharedCommandDone();
        return;
      }
      if (ridden.complete) this.#eventsMayBeInFlight = host.callCount > (host.lastEventfulCall ?? host.callCount);
      else events.push(...(await this.collectEvents()));
      await this.#confirmLease();
      this.#fireLibraryEvents(events);
    }
  }

  /** LockedExecutor: library work started outside a client command (async functions, async triggers...). */
  async runLocked<T>(work: () => T): Promise<T> {
    const release = await this.lock.exclusive();
    try {
      return await this.runHeld(work);
    } finally {
      release();
    }
  }

  /** Library work with the exclusive lock already held: earlier events settled first, its own after. */
  async runHeld<T>(work: () => T): Promise<T> {
    await this.beforeLibraryWork();
    const before = this.host.callCount;
    try {
      return work();
    } finally {
      await this.settleLibraryWork(before);
    }
  }

  /** The subscriber saw relevant events with no command in flight: process them under the lock, once. */
  scheduleBackground = (): void => {
    if (this.#backgroundScheduled) return;
    this.#backgroundScheduled = true;
    void this.#processBackground().catch((error: unknown) => {
      this.#log.error({ err: errorMessage(error) }, 'processing background keyspace events failed');
    });
  };

  async #processBackground(): Promise<void> {
    const release = await this.lock.exclusive();
    try {
      this.#backgroundScheduled = false;
      // Events no command of the runtime caused: on a server demoted since the last check, replicated writes'.
      await this.#role?.confirm();
      await this.refireInterrupted();
      const events = this.subscriber.takeUnclaimed();
      if (events.length > 0) await this.settleClientEvents(events);
    } finally {
      release();
    }
  }

  /** Events of library calls: they fire no keyspace trigger but the server's own (expiry, eviction). */
  #fireLibraryEvents(events: readonly KeyspaceEvent[]): void {
    this.#fire(events.filter((event) => SERVER_EVENTS.has(event.event) && this.host.matchesKeyspaceTrigger(event.key)), events);
  }

  /** Where the lease may have lapsed (the runtime was stopped or blocked), learns whether it is still held. */
  async #confirmLease(): Promise<void> {
    if (this.#lease !== undefined && !this.#lease.current && !this.#lease.lost) await this.#lease.confirm(this.pause.active);
  }

  /** Callers await #confirmLease() first: only then does `lost` tell a stalled runtime it must not fire. */
  #fire(keyspace: readonly KeyspaceEvent[], all: readonly KeyspaceEvent[]): void {
    if (!this.isPrimary || this.#lease?.lost === true) return;
    const host = this.host;
    if (keyspace.length > 0) {
      try {
        host.fireKeyspaceTriggers(keyspace);
      } catch (error) {
        this.#log.error({ err: errorMessage(error) }, 'firing keyspace triggers failed');
      }
      if (this.hasInterruptedTriggers) this.#scheduleRefire();
    }
    const streams = streamsTouched(all, host, !this.subscriber.hasUnclaimed);
    if (streams.length > 0) {
      try {
        host.processStreams(streams);
      } catch (error) {
        this.#log.error({ err: errorMessage(error) }, 'processing stream triggers failed');
      }
    }
  }
}
