/**
 * The host's side of the clients library code holds (guest/clients.ts builds the objects inside the isolate):
 * what each client id stands for (database, no-writes rule), the one place a library's Redis call is executed
 * (`callSync`), callAsync, and the library's background thread. Everything the guest sends is checked here;
 * an id the host did not hand out, or no longer honours, fails the call.
 */
import type { RespValue } from '../resp/types.js';
import { encode } from '../resp/encoder.js';
import { ClientKind, Op, type GuestBytes, type HostChannel } from './guest/protocol.js';
import { stringForm } from './js-values.js';
import type { HostServices } from './host-services.js';
import { guestBytes } from './guest-bytes.js';
import type { Library } from './library.js';
import { escapeDefault } from './escape-default.js';
import { LOCK_ON_REPLICA } from '../replication/replica-refusals.js';

/** Whose calls a client makes: the database it starts in, whether writes are refused, and as which ACL user. */
export interface Principal {
  readonly db: number;
  /** NO_WRITES function, onTriggerFired, cluster functions: write commands are refused. */
  readonly noWrites: boolean;
  /** The user whose ACL rights every call is checked against: the caller's for functions, the owner's for triggers. */
  readonly user: string;
}

/** A sync client: valid from its creation until the invocation it was made for ends. */
interface ClientState extends Principal {
  /** SELECT moves it. */
  db: number;
}

const INVALID_CLIENT = '-Used on invalid client\r\n';

export class LibraryClients implements Omit<HostChannel, 'settled' | 'rejected'> {
  readonly #library: () => Library;
  readonly #services: HostServices;
  readonly #clients = new Map<number, ClientState>();
  readonly #principals = new Map<number, Principal>();
  readonly #principalIds = new Map<string, number>();
  #nextId = 1;

  /** `library` is the library these clients belong to, known once its isolate exists. */
  constructor(library: () => Library, services: HostServices) {
    this.#library = library;
    this.#services = services;
  }

  /**
   * Runs `job` later on the library's background thread: under the runtime's lock, after the current command.
   * Errors of the job are logged; the job handles its own settlement.
   */
  background(job: () => void, onFailure?: (message: string) => void): void {
    const library = this.#library();
    library.pendingJobs += 1;
    void this.#services.executor
      .runLocked(() => {
        library.pendingJobs -= 1;
        if (!library.active) return onFailure?.('Library was deleted');
        job();
      })
      .catch((error: unknown) => this.#services.log.error({ err: error, library: library.name }, 'background job of the library failed'));
  }

  /** A sync client for one invocation; `close` it when the invocation has returned. */
  openSync(principal: Principal): number {
    const id = this.#nextId++;
    this.#clients.set(id, { db: principal.db, noWrites: principal.noWrites, user: principal.user });
    return id;
  }

  close(id: number): void {
    this.#clients.delete(id);
  }

  /** The id of a principal (ids are kept per distinct principal, so their number stays small). */
  principal(principal: Principal): number {
    const key = `${principal.db}:${principal.noWrites}:${principal.user}`;
    let id = this.#principalIds.get(key);
    if (id === undefined) {
      id = this.#nextId++;
      this.#principalIds.set(key, id);
      this.#principals.set(id, { db: principal.db, noWrites: principal.noWrites, user: principal.user });
    }
    return id;
  }

  // ---- the channel: called from inside the isolate ----

  call(clientId: number, argv: (string | ArrayBuffer)[]): GuestBytes {
    const state = this.#clients.get(clientId);
    if (!state) return INVALID_CLIENT;
    try {
      return guestBytes(encode(this.callSync(argv.map(toBuffer), state, state.noWrites), 3));
    } catch (error) {
      return `-${stringForm(error instanceof Error ? error.message : error).replace(/[\r\n]/g, ' ')}\r\n`;
    }
  }

  /**
   * Runs one command for library code, with RM_Call's checks (ACL as `state.user` last), in `state.db`. A
   * blocking command is wrapped in MULTI/EXEC so it answers at once, as blocking commands do inside RM_Call.
   */
  callSync(argv: Buffer[], state: { db: number; readonly user: string }, noWrites: boolean): RespValue {
    const refusal = this.#services.commands.refusal(argv, { noWrites }) ?? this.#services.access.callDenial(state.user, argv);
    if (refusal !== null) return { type: 'error', value: refusal };
    const calls = this.#services.calls;
    if (argv[0]!.toString().toLowerCase() === 'select') return this.#select(argv, state);
    if (this.#services.commands.isBlocking(argv)) {
      const replies = calls.runShared(argv, [['MULTI'], argv, ['EXEC']], state.db);
      const exec = replies[2]!;
      if (exec.type === 'array' && exec.value.length === 1) return exec.value[0]!;
      return replies[1]!.type === 'error' ? replies[1]! : exec;
    }
    return calls.runShared(argv, [argv], state.db)[0]!;
  }

  callAsync(clientId: number, argvIn: (string | ArrayBuffer)[]): number | string {
    const state = this.#clients.get(clientId);
    if (!state) return 'Used on invalid client';
    const library = this.#library();
    const argv = argvIn.map(toBuffer);
    const callId = this.#nextId++;
    const refusal = this.#services.commands.refusal(argv, { noWrites: state.noWrites }) ?? this.#services.access.callDenial(state.user, argv);
    const pending = { text: argv.map((a) => a.toString('utf8')).join(' ') };
    library.pendingAsyncCalls.add(pending);
    let reply: Promise<RespValue>;
    if (refusal !== null) {
      reply = Promise.resolve({ type: 'error', value: refusal });
    } else if (this.#services.commands.isBlocking(argv) || argv[0]!.toString().toLowerCase() === 'select') {
      // Only a command that may block waits on a connection of its own (its events, when it is served, come
      // from the write that unblocked it).
      this.#services.calls.countElsewhere(null);
      reply = this.#services.pool.call(argv, state.db);
    } else {
      // RedisGears runs a command that cannot block at once, inside the caller: its keyspace events are the
      // caller's, suppressed like those of client.call. Only the promise settles later.
      reply = Promise.resolve(this.#services.calls.runShared(argv, [argv], state.db)[0]!);
    }
    const answer = (bytes: GuestBytes) => {
      library.pendingAsyncCalls.delete(pending);
      this.background(() => void library.link.invoke(Op.CALL_REPLY, callId, bytes));
    };
    reply.then(
      (value) => answer(guestBytes(encode(value, 3))),
      (error: unknown) => answer(`-${stringForm(error instanceof Error ? error.message : error).replace(/[\r\n]/g, ' ')}\r\n`),
    );
    return callId;
  }

  schedule(jobId: number): void {
    const library = this.#library();
    this.background(() => {
      const outcome = library.link.invoke(Op.JOB, jobId);
      if (typeof outcome === 'object' && !outcome.ok) this.#services.log.warn({ library: library.name, error: outcome.error }, 'background job of the library failed');
    });
  }

  openClient(kind: number, fromId: number): number | string {
    if (kind === ClientKind.SYNC_OF) {
      const principal = this.#principals.get(fromId);
      if (principal && !principal.noWrites && this.#services.isReplica()) return LOCK_ON_REPLICA;
      return principal ? this.openSync(principal) : 0;
    }
    if (kind === ClientKind.NO_WRITES_OF) {
      const principal = this.#principals.get(fromId);
      return principal ? this.principal({ ...principal, noWrites: true }) : 0;
    }
    const state = this.#clients.get(fromId);
    return state ? this.principal(state) : 0;
  }

  closeClient(clientId: number): void {
    this.close(clientId);
  }

  log(message: string): void {
    this.#services.log.info({ library: this.#library().name }, `<redisgears_2> ${escapeDefault(message)}`);
  }

  /** SELECT only changes this client's database (the shared connection selects per call). */
  #select(argv: Buffer[], state: { db: number }): RespValue {
    const db = Number(argv[1]!.toString());
    const reply = this.#services.calls.runShared(argv, [['SELECT', String(argv[1]!)]], state.db)[0]!;
    if (reply.type !== 'error' && Number.isInteger(db)) state.db = db;
    return reply;
  }
}

function toBuffer(arg: string | ArrayBuffer): Buffer {
  return typeof arg === 'string' ? Buffer.from(arg) : Buffer.from(arg);
}
