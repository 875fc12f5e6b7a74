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
 */
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { GearsHost } from '../gears-host.js';
import type { ExecutionLock } from '../server/execution-lock.js';
import type { RedisConnection } from '../server/redis-connection.js';
import type { RoleGate } from '../server/trigger-scheduler.js';
import { roleOf, type ServerRole } from './server-role.js';

/** How often the runtime asks its server for its role. */
export const ROLE_POLL_MS = 1000;

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
  #primary: boolean;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(control: RedisConnection, target: RoleChangeTarget, initial: ServerRole, log: Logger) {
    this.#control = control;
    this.#target = target;
    this.#primary = initial === 'primary';
    this.#log = log;
  }

  get isPrimary(): boolean {
    return this.#primary;
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
      this.#log.info('redis-server is a replica now: no trigger fires until it is promoted');
      await target.host.roleChanged?.(false);
      return;
    }
    // Still a replica's: what the replicated writes raised before the promotion is collected and dropped.
    await target.collectEvents();
    this.#primary = true;
    this.#log.info('redis-server is a primary now: triggers fire, libraries and stream positions reloaded from its store');
    await target.runHeld(() => target.host.roleChanged?.(true));
  }
}
