/**
 * A client connection's state as redis-server sees it, followed from the commands that change it and the
 * server's replies: the protocol and database (HELLO, SELECT), the ACL user (AUTH, HELLO AUTH), and the open
 * transaction. The runtime needs them to answer TF commands as that connection, and to know what EXEC replays.
 */
import type { CallerContext, GearsCommandName } from '../gears-host.js';
import type { RespProtocol, RespValue } from '../resp/types.js';

export interface SessionCommand {
  /** Lower-case command name. */
  readonly name: string;
  readonly args: readonly Buffer[];
  readonly raw: Buffer;
  /** Its reply is silenced (CLIENT REPLY OFF, or the command after CLIENT REPLY SKIP). */
  readonly muted: boolean;
}

/** A command queued inside MULTI: by the server, or (TF commands) by the runtime for replay at EXEC. */
export interface QueuedCommand {
  readonly command: SessionCommand;
  readonly gears: GearsCommandName | undefined;
}

/** Commands whose success changes state the session follows (ACL, CONFIG: users' rights, for the library host). */
export const TRACKED = new Set(['hello', 'auth', 'acl', 'config', 'select', 'multi', 'discard', 'watch', 'unwatch', 'reset', 'quit']);

/** Commands whose success may change what some user is allowed (the library host drops its rights cache). */
const CHANGES_IDENTITIES = new Set(['acl', 'auth', 'hello', 'config']);

export class Session {
  readonly #onIdentitiesChanged: () => void;
  protocol: RespProtocol = 2;
  db = 0;
  /** The connection's ACL user: set by a successful AUTH or HELLO … AUTH, `default` until then and after RESET. */
  user = 'default';
  /** AUTH or HELLO … AUTH succeeded (a server with a password refuses TF commands before that: NOAUTH). */
  authenticated = false;
  inMulti = false;
  watching = false;
  /** CLIENT TRACKING was asked for: a read on this connection may register keys (so the runtime reads none ahead). */
  mayTrackReads = false;
  transaction: QueuedCommand[] = [];
  transactionHasGears = false;
  /** The server refused a queued command: its EXEC will reply EXECABORT. */
  transactionServerError = false;
  /** The runtime refused a queued gears command: EXEC must reply EXECABORT itself. */
  transactionLocalError = false;

  constructor(onIdentitiesChanged: () => void) {
    this.#onIdentitiesChanged = onIdentitiesChanged;
  }

  /** Who a TF command runs as. */
  caller(inTransaction: boolean): CallerContext {
    return { db: this.db, protocol: this.protocol, user: this.user, authenticated: this.authenticated, inTransaction };
  }

  /** The server's answer to a command queued inside MULTI. */
  noteQueued(reply: RespValue): void {
    if (reply.type === 'error') this.transactionServerError = true;
  }

  /** Ends the transaction without running it (EXEC replayed by the runtime, which DISCARDs the server's). */
  leaveMulti(): void {
    this.inMulti = false;
    this.watching = false;
  }

  /** Updates the state from a command and the server's reply to it. */
  track(command: SessionCommand, reply: RespValue): void {
    const { name, args } = command;
    if (name === 'exec' || name === 'discard') {
      const transaction = this.transaction;
      const wasInMulti = this.inMulti;
      this.leaveMulti();
      // The queued commands ran now: their state changes (SELECT inside MULTI...) take effect.
      if (wasInMulti && name === 'exec' && reply.type === 'array') {
        transaction.forEach((queued, i) => {
          const result = reply.value[i];
          if (result && !queued.gears) this.track(queued.command, result);
        });
      }
      return;
    }
    if (reply.type === 'error') return;
    if (CHANGES_IDENTITIES.has(name)) this.#onIdentitiesChanged();
    switch (name) {
      case 'hello': {
        if (args.length > 1) this.protocol = Number(args[1]!.toString()) === 3 ? 3 : 2;
        const auth = args.findIndex((arg, i) => i > 1 && arg.toString('latin1').toLowerCase() === 'auth');
        if (auth > 0 && args[auth + 1]) {
          this.user = args[auth + 1]!.toString();
          this.authenticated = true;
        }
        return;
      }
      case 'auth':
        this.user = args.length >= 3 ? args[1]!.toString() : 'default';
        this.authenticated = true;
        return;
      case 'select':
        this.db = Number(args[1]!.toString());
        return;
      case 'multi':
        this.inMulti = true;
        this.transaction = [];
        this.transactionHasGears = false;
        this.transactionServerError = false;
        this.transactionLocalError = false;
        return;
      case 'watch':
        this.watching = true;
        return;
      case 'unwatch':
        this.watching = false;
        return;
      case 'reset':
        this.reset();
        return;
    }
  }

  /** RESET: back to a fresh connection's state. */
  reset(): void {
    this.protocol = 2;
    this.db = 0;
    this.user = 'default';
    this.authenticated = false;
    this.leaveMulti();
    this.transaction = [];
    this.transactionHasGears = false;
  }
}
