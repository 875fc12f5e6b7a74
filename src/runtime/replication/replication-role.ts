/**
 * Follows the role of the runtime's redis-server. At start the runtime asks `ROLE`; then every ROLE_POLL_MS
 * it asks again (one cheap round trip on the control connection, no lock), and a command that may write asks
 * first while the server is believed a replica (TriggerScheduler.confirmRole), so that a just-promoted server
 * never takes a write whose triggers would not fire. A change is applied under the exclusive lock:
 *
 * - promotion: the events still on their way from writes replicated before it are collected and dropped, then
 *   triggers fire again and the host reloads its libraries and stream positions from the store (replicated
 *   with the data, so they match it), as a restarted runtime does, and its stream triggers resume from there;
 * - demotion: triggers stop; the libraries stay loaded (RedisGears keeps them on a replica).
 *
 * A check that needs a primary (PromotionCheck: the notify-keyspace-events probe of a server without CONFIG)
 * runs first at promotion, until it passes once. When it fails (a ConfigError: what it found) the runtime keeps
 * serving clients but stays, as far as triggers go, as on a replica (none fires, the host keeps its replica
 * state), and reports the failure as loudly as a start would: an error log with the check's message, and
 * `onFailed` (the Runtime's 'error').
 * Why not exit: docs/runtime.md, a server whose CONFIG is renamed away.
 */
import { ConfigError, errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { GearsHost } from '../gears-host.js';
import type { ExecutionLock } from '../server/execution-lock.js';
import type { RedisConnection } from '../server/redis-connection.js';
import type { RoleGate } from '../server/trigger-scheduler.js';
import { roleOf, type ServerRole } from './server-role.js';

/** How often the runtime asks its server for its role. */
export const ROLE_POLL_MS = 1000;

/** Run at promotion before triggers fire (see the header). */
export interface PromotionCheck {
  /** Throws why the promoted server cannot run triggers. */
  run(): Promise<void>;
  /** Told each failure of `run`. */
  onFailed(error: unknown): void;
}

/** What a role change acts on (the TriggerScheduler). */
export interface RoleChangeTarget {
  readonly lock: ExecutionLock;
  readonly host: GearsHost;
  /** Every keyspace event of what the server did so far, collected with a marker (and not fired). */
  collectEvents(): Promise<unknown>;
  /** Runs library work with the exclusive lock already held, and settles what it did. */
  runHeld<T>(work: () => T): Promise<T>;
}

export class ReplicationRole implements RoleGate {
  readonly #control: RedisConnection;
  readonly #target: RoleChangeTarget;
  readonly #log: Logger;
  /** Pending until it passes once. */
  #check: PromotionCheck | null;
  /** The server's role as last seen. */
  #primary: boolean;
  /** The promotion check failed on the primary the server is now: triggers stay off. */
  #refused = false;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(control: RedisConnection, target: RoleChangeTarget, initial: ServerRole, log: Logger, check: PromotionCheck | null = null) {
    this.#control = control;
    this.#target = target;
    this.#primary = initial === 'primary';
    this.#log = log;
    this.#check = check;
  }

  /** Triggers fire: the server is a primary and passed the promotion check. */
  get isPrimary(): boolean {
    return this.#primary && !this.#refused;
  }

  /** Starts asking the server every ROLE_POLL_MS. */
  start(): void {
    this.#timer = setInterval(() => void this.#poll(), ROLE_POLL_MS);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /** With the exclusive lock held: asks the server its role and applies a change. */
  async confirm(): Promise<void> {
    const role = roleOf(await this.#control.send(['ROLE']));
    if ((role === 'primary') !== this.#primary) await this.#apply(role);
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const role = roleOf(await this.#control.send(['ROLE']));
      if ((role === 'primary') === this.#primary) return;
      const release = await this.#target.lock.exclusive();
      try {
        await this.confirm();
      } finally {
        release();
      }
    } catch (error) {
      this.#log.warn({ err: errorMessage(error) }, 'checking the role of redis-server failed');
    } finally {
      this.#polling = false;
    }
  }

  async #apply(role: ServerRole): Promise<void> {
    const target = this.#target;
    if (role === 'replica') {
      this.#primary = false;
      this.#refused = false;
      this.#log.info('redis-server is a replica now: no trigger fires until it is promoted');
      await target.host.roleChanged?.(false);
      return;
    }
    // Run while triggers are still off: its events, like those of the writes replicated before the promotion,
    // are collected below and dropped.
    if (this.#check !== null && !(await this.#passes(this.#check))) return;
    // Still a replica's: what the replicated writes raised before the promotion is collected and dropped.
    await target.collectEvents();
    this.#primary = true;
    this.#log.info('redis-server is a primary now: triggers fire, libraries and stream positions reloaded from its store');
    await target.runHeld(() => target.host.roleChanged?.(true));
  }

  async #passes(check: PromotionCheck): Promise<boolean> {
    try {
      await check.run();
      this.#check = null;
      return true;
    } catch (error) {
      // Not a finding (a timeout, a lost connection): thrown to the caller, and the check runs again at the next
      // look (the next write, or the poll within ROLE_POLL_MS), the server still taken for a replica.
      if (!(error instanceof ConfigError)) throw error;
      this.#primary = true;
      this.#refused = true;
      this.#log.error(
        { err: errorMessage(error) },
        'redis-server is a primary now but failed the check triggers need: the runtime keeps serving clients and fires no trigger (writes under trigger prefixes are not captured) until the server is fixed and the runtime restarted',
      );
      check.onFailed(error);
      return false;
    }
  }
}
