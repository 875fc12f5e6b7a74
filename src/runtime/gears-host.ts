/**
 * The seam between the runtime's server (RESP front end, pass-through proxy, keyspace-event capture, global
 * lock) and the library host (V8 sandbox, the `redis` API, triggers, functions). The server owns *when* things
 * run; the host owns *what* runs.
 */
import type { RespProtocol, RespValue } from './resp/types.js';

/** A keyspace notification published by the backing redis-server. */
export interface KeyspaceEvent {
  readonly db: number;
  /** Redis event name: hset, del, expired, xadd, keymiss, ... */
  readonly event: string;
  readonly key: Buffer;
}

/**
 * A stream whose keyspace events a settled window saw. As in RedisGears (lib.rs): only a stream-class event
 * (`on_stream_touched`: xadd, xtrim, xdel, xsetid, xgroup-*) reads the stream, and only `del`
 * (`generic_notification` → `on_stream_deleted`) forgets the consumers' positions. Other events (RESTORE, RENAME,
 * COPY, MOVE, expiry, eviction) neither read nor forget: the stream they bring is read at its next stream event.
 */
export interface TouchedStream {
  readonly db: number;
  readonly key: Buffer;
  /** A stream-class event: the consumers read what follows their positions. */
  readonly read: boolean;
  /** A `del` came before the last stream-class event: positions are forgotten before the read. */
  readonly forgetBefore: boolean;
  /** A `del` came after the last stream-class event (or there was none): positions are forgotten after it. */
  readonly forgetAfter: boolean;
  /**
   * Another event (RESTORE, RENAME, COPY, MOVE, expiry, …) may have replaced the stream's entries: a consumer
   * that had read it to its end must read it again at its next stream event.
   */
  readonly replaced: boolean;
  /**
   * How many entries the window appended, when its events on the stream were appends only, or 0 when none of
   * them added an entry (XTRIM, XDEL, XGROUP), and no earlier event is still waiting to be processed; null
   * otherwise. The host may then take the entries from the calls that appended them instead of reading the
   * stream, or know that there is nothing new to read.
   */
  readonly appends: number | null;
}

/** The client connection a command came from. */
export interface CallerContext {
  /** Selected database of the connection. */
  readonly db: number;
  readonly protocol: RespProtocol;
  /** ACL user of the connection (from AUTH / HELLO AUTH), `default` otherwise. */
  readonly user: string;
  /**
   * An AUTH / HELLO AUTH succeeded on the connection (since its last RESET). Without it the connection is the
   * default user only if that user needs no password, as redis-server's authRequired() decides.
   */
  readonly authenticated: boolean;
  /** True inside MULTI/EXEC: such calls may not block. */
  readonly inTransaction: boolean;
}

/**
 * Runs library work that starts outside a client command (async functions, executeAsync, async triggers,
 * callAsync continuations) under the runtime's global lock, then settles its effects: the stream triggers its
 * writes fire. Implemented by the server.
 */
export interface LockedExecutor {
  runLocked<T>(work: () => T): Promise<T>;
}

/** An ordering marker of the server's, to pipeline behind a command on any connection to the backing server. */
export interface MarkerSource {
  open(): {
    /** `PUBLISH <marker channel> <seq>`. */
    readonly command: readonly string[];
    /** Every keyspace event since the previous marker, once this one arrives. */
    readonly events: Promise<KeyspaceEvent[]>;
    /**
     * The marker will not be awaited: events that come before it go to whoever waits next. False when it had
     * come already, its events handed to this marker's waiter.
     */
    cancel(): boolean;
  };
}

/** What the library host offers the server. Every method except the async ones runs with the lock held. */
/**
 * A string the runtime keeps in redis-server beside its library store (runtime/unclean-stops.ts: its running mark,
 * its unclean-stop count), and what it must hold; the store guard sets it again when it goes away by another hand
 * (library-host/store-guard.ts).
 */
export interface KeptString {
  readonly key: string;
  /** What the key is, for the warnings: "the runtime’s running mark". */
  readonly what: string;
  /** The value it is set to again. */
  value(): string;
  /** Whether `now` (the string there now; null when there is none) lacks what the runtime holds. */
  lacks(now: string | null): boolean;
}

export interface GearsHost {
  /** TFUNCTION LOAD/DELETE/LIST, TFCALL and TFCALLASYNC: argument vectors after the command name. */
  handleCommand(name: GearsCommandName, args: Buffer[], caller: CallerContext): RespValue | Promise<RespValue>;
  /** Whether any keyspace trigger's prefix matches `key` (lets the server skip work for unrelated keys). */
  matchesKeyspaceTrigger(key: Buffer): boolean;
  /**
   * On a cluster primary, the node id and hash tag (no braces) of the host's store (cluster/cluster-store-keys.ts),
   * under which the runtime keeps its running mark; null on a replica, off a cluster, or while the node serves
   * no slot. A host without it gets no mark on a cluster.
   */
  storeNode?(): { readonly id: string; readonly tag: string } | null;
  /** Whether any stream trigger's prefix matches `key`. */
  matchesStreamTrigger(key: Buffer): boolean;
  /** Runs onTriggerFired and the sync callbacks of every matching keyspace trigger, in order; schedules async ones. */
  fireKeyspaceTriggers(events: readonly KeyspaceEvent[]): void;
  /**
   * Sync keyspace callbacks that failed after the server refused one of their calls with CLUSTERDOWN (the cluster
   * went down after the write that fired them ran), kept to be fired again. Absent: none are kept.
   */
  readonly interruptedTriggers?: number;
  /** Fires those callbacks again, oldest first; one cut again is kept again. */
  refireInterruptedTriggers?(): void;
  /** Delivers new entries of these streams to matching stream triggers (sync callbacks run now). */
  processStreams(streams: readonly TouchedStream[]): void;
  /** Redis calls made by library code so far (monotonic): the server settles effects only when it moved. */
  readonly callCount: number;
  /**
   * The `callCount` of the last call whose events a trigger could care about (its keys are unknown, or one of
   * them is under a trigger prefix). Calls after it touched only keys no trigger watches, so the server need
   * not wait for their events. Absent: every call may matter.
   */
  readonly lastEventfulCall?: number;
  /** Gives the host the server's markers, to ride behind library calls (see takeCallMarkers). */
  useMarkers?(source: MarkerSource): void;
  /**
   * The markers pipelined behind library calls since the last take: each arrives after every event of the calls
   * before it. `complete` is false when an eventful call carried none (the server then publishes one). Absent:
   * the server publishes a marker after every library window.
   */
  takeCallMarkers?(): { readonly events: readonly Promise<KeyspaceEvent[]>[]; readonly complete: boolean };
  /**
   * Read-ahead (library-host/read-ahead.ts): opens the window of a client command on `key`, run by `user`, and
   * returns the read to send right behind it (null: none).
   */
  openReadAhead?(key: Buffer, user: string): Buffer[] | null;
  /**
   * Whether the server lets `user` PUBLISH to `channel`: a marker may then follow its commands on its connection
   * without its refusal landing in ACL LOG. Absent: assumed.
   */
  mayPublish?(user: string, channel: string): boolean;
  /** Whether a client must authenticate (the default user needs a password). Absent: it need not. */
  passwordRequired?(): boolean;
  /** The read sent ahead came back, in `db`, with the events its own marker closed. */
  offerReadAhead?(argv: readonly Buffer[], db: number, reply: RespValue, events: Promise<KeyspaceEvent[]>): void;
  /** Closes the window: the events of the read if no library call took it. */
  closeReadAhead?(): Promise<KeyspaceEvent[]> | null;
  /** FLUSHALL / FLUSHDB passed through: forget stream positions (RedisGears does) and re-persist libraries. */
  afterFlush(db: number | 'all'): void;
  /**
   * A keyspace event on a key of the host's store (library-store.ts isStoreKey), as it arrives, outside the lock:
   * a store key gone by another hand (evicted, expired, deleted) is written again (store-guard.ts). Absent: the
   * host keeps no store.
   */
  storeEvent?(event: KeyspaceEvent): void;
  /**
   * The server flushed a database (FLUSHALL, or FLUSHDB of one it does not name), by whatever client, which raises
   * no keyspace event: every store key and kept string is looked at, as after an event on each.
   */
  storeFlushed?(): void;
  /**
   * Keeps a string the runtime wrote beside the store (its running mark, its unclean-stop count) as the store is
   * kept: gone by another hand, it is set again (store-guard.ts KeptString). Absent: nothing keeps it.
   */
  keepString?(kept: KeptString): void;
  /** Stops keeping the string under `key` (keepString): before the runtime deletes it itself. */
  releaseString?(key: string): void;
  /** An ACL command, AUTH, HELLO or CONFIG (requirepass) passed through: users' rights may have changed. */
  identitiesChanged?(): void;
  /**
   * Reloads persisted libraries and stream positions from the backing Redis (runtime restart). On a replica
   * (`roleChanged(false)` before, or LibraryHostOptions.replica) only the libraries.
   */
  restore(): Promise<void>;
  /**
   * The server became a primary (true: reload libraries and stream positions from the store, as restore does
   * at a restart, and resume the stream triggers) or a replica (false: no stream work, nothing written to the
   * store). Called with the exclusive lock held.
   */
  roleChanged?(primary: boolean): Promise<void>;
  close(): Promise<void>;
}

/**
 * `_RG_INTERNALS.FUNCTION` is RedisGears' internal `_rg_internals.function`: a runtime in cluster mode receives a
 * peer's TFUNCTION LOAD/DELETE as it; elsewhere it is refused, as RedisGears refuses it from clients.
 */
export type GearsCommandName = 'TFUNCTION' | 'TFCALL' | 'TFCALLASYNC' | '_RG_INTERNALS.FUNCTION';
