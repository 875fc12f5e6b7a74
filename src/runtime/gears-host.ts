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

/** What the library host offers the server. Every method except the async ones runs with the lock held. */
export interface GearsHost {
  /** TFUNCTION LOAD/DELETE/LIST, TFCALL and TFCALLASYNC: argument vectors after the command name. */
  handleCommand(name: GearsCommandName, args: Buffer[], caller: CallerContext): RespValue | Promise<RespValue>;
  /** Whether any keyspace trigger's prefix matches `key` (lets the server skip work for unrelated keys). */
  matchesKeyspaceTrigger(key: Buffer): boolean;
  /** Whether any stream trigger's prefix matches `key`. */
  matchesStreamTrigger(key: Buffer): boolean;
  /** Runs onTriggerFired and the sync callbacks of every matching keyspace trigger, in order; schedules async ones. */
  fireKeyspaceTriggers(events: readonly KeyspaceEvent[]): void;
  /** Delivers new entries of these streams to matching stream triggers (sync callbacks run now). */
  processStreams(streams: readonly { db: number; key: Buffer }[]): void;
  /** Redis calls made by library code so far (monotonic): the server settles effects only when it moved. */
  readonly callCount: number;
  /**
   * The `callCount` of the last call whose events a trigger could care about (its keys are unknown, or one of
   * them is under a trigger prefix). Calls after it touched only keys no trigger watches, so the server need
   * not wait for their events. Absent: every call may matter.
   */
  readonly lastEventfulCall?: number;
  /**
   * PUBLISHes on the connection library code's calls use and returns the reply once it is in: the message
   * reaches subscribers after every event those calls caused. Absent (or undefined): the server publishes on a
   * connection of its own.
   */
  publishBehindCalls?(channel: string, message: string): RespValue | undefined;
  /** FLUSHALL / FLUSHDB passed through: forget stream positions (RedisGears does) and re-persist libraries. */
  afterFlush(db: number | 'all'): void;
  /** An ACL command, AUTH, HELLO or CONFIG (requirepass) passed through: users' rights may have changed. */
  identitiesChanged?(): void;
  /** Reloads persisted libraries and stream positions from the backing Redis (runtime restart). */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `_RG_INTERNALS.FUNCTION` is RedisGears' internal `_rg_internals.function`: a runtime in cluster mode receives a
 * peer's TFUNCTION LOAD/DELETE as it; elsewhere it is refused, as RedisGears refuses it from clients.
 */
export type GearsCommandName = 'TFUNCTION' | 'TFCALL' | 'TFCALLASYNC' | '_RG_INTERNALS.FUNCTION';
