/**
 * Whose rights a library's Redis call is checked against is decided by the caller (the calling connection's
 * user for functions, the library owner for triggers); this answers whether that user may run it, as RM_Call
 * with its ACL check ('C') would. All calls run on the runtime's own connections, so nothing is re-authenticated:
 * the backing server is asked with `ACL DRYRUN <user> <command…>` (Redis ≥ 7.0).
 *
 * Fast path: what `ACL GETUSER` says is cached per user, and a user with every command on every key (the
 * default user of a server without ACLs) needs no question at all: one Map lookup per call. The cache is
 * dropped whenever an ACL command, AUTH, HELLO or CONFIG passes through the runtime (`invalidate`).
 */
import type { SyncRedis } from '../sync-redis/sync-redis.js';
import { textOf } from '../resp/types.js';
import { denialFromDryRun, triggerKeyDenial, USER_MISSING } from './denial.js';
import { mayFullyAccess, parseUserRights, type UserRights } from './user-rights.js';

/** Commands whose channel arguments ACL checks that library code may call (SUBSCRIBE and friends are noscript). */
const CHANNEL_COMMANDS = new Set(['publish', 'spublish']);

export class AccessControl {
  readonly #redis: SyncRedis;
  readonly #rights = new Map<string, UserRights>();
  /** mayPublish's answers for users whose rights leave it open, by user and channel. */
  readonly #publishing = new Map<string, boolean>();

  constructor(redis: SyncRedis) {
    this.#redis = redis;
  }

  /** ACL rules may have changed: ask the server again. */
  invalidate(): void {
    this.#rights.clear();
    this.#publishing.clear();
  }

  /** Null when a connection that has not authenticated may run commands (the default user is `on` and `nopass`). */
  authDenial(): string | null {
    const rights = this.#rights.get('default') ?? this.#load('default');
    if (typeof rights === 'string') return rights;
    return rights.passwordless ? null : 'NOAUTH Authentication required.';
  }

  /**
   * Whether the default user needs a password, as redis-server's authRequired() asks for a client that has not
   * authenticated; false when the runtime cannot read the user (the server still applies its own limits).
   */
  passwordRequired(): boolean {
    const rights = this.#rights.get('default') ?? this.#load('default');
    return typeof rights !== 'string' && !rights.passwordless;
  }

  /** Null when `user` may run `argv`, else the error reply's text. */
  callDenial(user: string, argv: readonly Buffer[]): string | null {
    const rights = this.#rights.get(user) ?? this.#load(user);
    if (typeof rights === 'string') return rights;
    if (rights.allCommandsAndKeys && (rights.allChannels || !CHANNEL_COMMANDS.has(argv[0]!.toString('latin1').toLowerCase()))) return null;
    if (!rights.exists) return USER_MISSING;
    return this.#dryRun(user, argv, null);
  }

  /** Whether `user` may run every command on every key and channel: nothing it runs is ever denied. */
  mayRunAnything(user: string): boolean {
    const rights = this.#rights.get(user) ?? this.#load(user);
    return typeof rights !== 'string' && rights.allCommandsAndKeys && rights.allChannels;
  }

  /**
   * Whether the server lets `user` PUBLISH to `channel` (asked once per user and channel until ACL rules may have
   * changed); true when the runtime cannot tell, as it cannot read the user's rights.
   */
  mayPublish(user: string, channel: string): boolean {
    const key = `${user}\n${channel}`;
    const known = this.#publishing.get(key);
    if (known !== undefined) return known;
    const rights = this.#rights.get(user) ?? this.#load(user);
    const allowed = typeof rights === 'string' || (rights.allCommandsAndKeys && rights.allChannels) || (rights.exists && this.#dryRun(user, ['PUBLISH', channel, '0'], null) === null);
    this.#publishing.set(key, allowed);
    return allowed;
  }

  /** Null when `user` may run the server command `argv` a RedisGears command stands for, else NOPERM naming `shownAs`. */
  commandDenial(user: string, argv: readonly (string | Buffer)[], shownAs: string): string | null {
    const rights = this.#rights.get(user) ?? this.#load(user);
    if (typeof rights === 'string') return rights;
    if (rights.allCommandsAndKeys) return null;
    if (!rights.exists) return USER_MISSING;
    return this.#dryRun(user, argv, shownAs);
  }

  /** Null when a trigger owned by `user` may run for `key` (every permission on it), else RedisGears' error. */
  triggerKeyDenial(user: string, key: Buffer): string | null {
    const rights = this.#rights.get(user) ?? this.#load(user);
    if (typeof rights === 'string') return rights;
    if (!rights.exists) return triggerKeyDenial(user, key, true);
    return mayFullyAccess(rights, key) ? null : triggerKeyDenial(user, key, false);
  }

  /** The user's rights, cached; the error text when the server would not say (not cached: asked again next time). */
  #load(user: string): UserRights | string {
    const reply = this.#redis.call(['ACL', 'GETUSER', user]);
    if (reply.type === 'error') return `ERR the RedisGears runtime cannot check ACL rights (ACL GETUSER ${user}): ${reply.value}`;
    const rights = parseUserRights(reply);
    this.#rights.set(user, rights);
    return rights;
  }

  #dryRun(user: string, argv: readonly (string | Buffer)[], shownAs: string | null): string | null {
    const reply = this.#redis.call(['ACL', 'DRYRUN', user, ...argv]);
    if (reply.type === 'simple') return null;
    if (reply.type === 'error') {
      if (/^ERR User '[\s\S]*' not found$/.test(reply.value)) {
        this.#rights.delete(user);
        return USER_MISSING;
      }
      return `ERR the RedisGears runtime cannot check ACL rights (ACL DRYRUN): ${reply.value}`;
    }
    return denialFromDryRun(textOf(reply) ?? '', user, shownAs);
  }
}
