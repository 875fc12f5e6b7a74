/**
 * One client of the runtime. Each client gets its own upstream connection to redis-server, so everything that
 * is per-connection there (SELECT, MULTI/WATCH, pub/sub, blocking commands, CLIENT SETNAME, ACL user) behaves
 * exactly as redis-server makes it behave, and the server's reply bytes are forwarded unchanged.
 *
 * Commands are dispatched in order. Each takes one of these routes:
 * - shared: its keys match no trigger prefix, so it cannot fire anything. Consecutive ones go upstream together
 *   under one shared hold of the execution lock, and their replies are forwarded as they come.
 * - markered: it may fire a trigger. Under the exclusive lock it is sent with `PUBLISH <marker> <seq>` pipelined
 *   behind it; once the marker comes back every event it caused is known, the triggers run, and only then does
 *   the client get its reply.
 * - gears: TFUNCTION / TFCALL / TFCALLASYNC, answered by the library host under the exclusive lock.
 * - tracked: changes connection state the runtime must know (HELLO, AUTH, SELECT, MULTI, WATCH, RESET...).
 * - blocking: BLPOP and friends; see runBlocking.
 * - pub/sub: RESP3 pushes keep their place in the stream; a RESP2 connection that (un)subscribes switches to a
 *   raw pass-through mode until it is no longer subscribed.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { errorMessage } from '../../shared/errors.js';
import type { CallerContext, GearsCommandName } from '../gears-host.js';
import { GEARS_COMMAND_MIN_ARGS, gearsCommandName } from '../commands/index.js';
import { decodeFrame, RespFramer } from '../resp/decoder.js';
import { RequestParser, type ClientRequest, type RequestLimits } from '../resp/request-parser.js';
import { encode, encodeCommand } from '../resp/encoder.js';
import { array, error, simple, type RespProtocol, type RespValue } from '../resp/types.js';
import { ClientOutput, type OutputSlot } from './client-output.js';
import { parseClientList, planClientKill, sumKillReplies } from './client-kill.js';
import { OWN_TOKEN, slowlogCount, type OwnTraffic } from './own-traffic.js';
import type { CommandTable } from '../command-table.js';
import type { RedisAddress } from './redis-address.js';
import { openSocket, type RedisConnection } from './redis-connection.js';
import type { ReleaseLock } from './execution-lock.js';
import type { TriggerScheduler } from './trigger-scheduler.js';

export interface ClientConnectionDeps {
  readonly address: RedisAddress;
  readonly table: CommandTable;
  readonly scheduler: TriggerScheduler;
  /** The runtime's control connection (CLIENT LIST lookups). */
  readonly control: RedisConnection;
  /** The runtime's own connections and channels, kept out of what clients see and kill. */
  readonly ownTraffic: OwnTraffic;
  /** redis-server's protocol limits, as read at start. */
  readonly limits: () => RequestLimits;
  readonly log: Logger;
}

interface ClientCommand extends ClientRequest {
  /** Lower-case command name. */
  readonly name: string;
  /** Its reply is silenced (CLIENT REPLY OFF, or the command after CLIENT REPLY SKIP). */
  readonly muted: boolean;
}

interface Expectation {
  /** The reply's bytes; decodeFrame(raw) when its value matters (most are only forwarded). */
  reply(raw: Buffer): void;
  fail(error: Error): void;
}

interface QueuedCommand {
  readonly command: ClientCommand;
  readonly gears: GearsCommandName | undefined;
}

type Route = 'shared' | 'markered' | 'gears' | 'tracked' | 'blocking' | 'pubsub' | 'monitor' | 'exec' | 'queue-gears' | 'client-reply' | 'refuse-sync' | 'unlocked' | 'client-kill' | 'introspect';

/** Commands whose success changes connection state the runtime tracks. */
const TRACKED = new Set(['hello', 'auth', 'select', 'multi', 'discard', 'watch', 'unwatch', 'reset', 'quit']);
/** What redis-server runs at once inside MULTI instead of queuing. */
const EXECUTED_INSIDE_MULTI = new Set(['exec', 'discard', 'multi', 'watch', 'reset', 'quit']);
const PUBSUB_COMMANDS = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);
/** What redis-server accepts from a RESP2 connection in subscribed state. */
const ALLOWED_WHILE_SUBSCRIBED = new Set([...PUBSUB_COMMANDS, 'ping', 'quit']);
const QUEUED = encode(simple('QUEUED'), 2);
/**
 * How long a markered command may wait on the server before the lock steps aside for shared commands: past it,
 * the server is likely busy with a long script or paused, and serves (or BUSY-refuses) other clients itself.
 */
const STEP_ASIDE_AFTER_MS = 500;

export class ClientConnection {
  readonly #client: Socket;
  readonly #deps: ClientConnectionDeps;
  readonly #output: ClientOutput;
  readonly #commands: ClientCommand[] = [];
  readonly #expectations: Expectation[] = [];
  #drainWaiters: (() => void)[] = [];
  #upstream: Socket | undefined;
  #ready: Promise<void>;
  /** The server's id for the upstream connection, looked up when first needed. */
  #upstreamId: Promise<number | null> | undefined;
  #pumping = false;
  #closed = false;
  #closedError: Error | undefined;

  // Connection state, as redis-server sees it.
  #protocol: RespProtocol = 2;
  #db = 0;
  #user = 'default';
  #inMulti = false;
  #watching = false;
  #transaction: QueuedCommand[] = [];
  #transactionHasGears = false;
  /** The server refused a queued command: its EXEC will reply EXECABORT. */
  #transactionServerError = false;
  /** The runtime refused a queued gears command: EXEC must reply EXECABORT itself. */
  #transactionLocalError = false;
  #rawMode: 'pubsub' | 'monitor' | null = null;
  #replyMode: 'on' | 'off' | 'skip-next' = 'on';
  #channels = 0;
  #shardChannels = 0;
  #barrier: { token: Buffer; resolve: () => void } | undefined;
  #barrierCount = 0;
  /** In MONITOR mode: the addresses of the runtime's own connections, whose lines are not shown. */
  #monitorHides: ReadonlySet<string> = new Set();
  /** A protocol error ended the input: reply it after everything earlier, then close. */
  #protocolError: string | undefined;

  constructor(client: Socket, deps: ClientConnectionDeps) {
    this.#client = client;
    this.#deps = deps;
    this.#output = new ClientOutput(client);
    client.setNoDelay(true);
    const parser = new RequestParser(
      {
        onRequest: (request) => this.#onClientRequest(request),
        onProtocolError: (message) => {
          this.#protocolError = message;
          void this.#pump();
        },
        onQueryBufferOverflow: () => this.close(),
      },
      deps.limits,
    );
    client.on('data', (chunk) => parser.push(chunk));
    client.on('error', () => this.close());
    client.on('close', () => this.close());
    this.#ready = this.#connectUpstream();
    this.#ready.catch(() => undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedError = new Error('client connection closed');
    this.#upstream?.destroy();
    this.#client.destroy();
    this.#failExpectations();
  }

  async #connectUpstream(): Promise<void> {
    let upstream: Socket;
    try {
      upstream = await openSocket(this.#deps.address);
    } catch (cause) {
      this.#client.end(encode(error(`ERR the RedisGears runtime cannot reach redis-server: ${errorMessage(cause)}`), 2));
      this.close();
      throw cause;
    }
    if (this.#closed) {
      upstream.destroy();
      return;
    }
    upstream.setNoDelay(true);
    this.#upstream = upstream;
    const framer = new RespFramer((raw) => this.#onUpstreamFrame(raw));
    upstream.on('data', (chunk) => framer.push(chunk));
    upstream.on('error', () => undefined);
    upstream.on('close', () => this.#onUpstreamClosed());
  }

  #onUpstreamClosed(): void {
    this.#failExpectations();
    this.#output.flush();
    this.#client.end();
    this.#closed = true;
  }

  #failExpectations(): void {
    const failure = this.#closedError ?? new Error('connection to redis-server closed');
    this.#closedError ??= failure;
    for (const expectation of this.#expectations.splice(0)) expectation.fail(failure);
    this.#resolveDrainWaiters();
    this.#barrier?.resolve();
  }

  // ---- client → runtime ----------------------------------------------------------------------------------

  #onClientRequest(request: ClientRequest): void {
    if (this.#closed) return;
    const name = request.args[0]!.toString('latin1').toLowerCase();
    this.#commands.push({ args: request.args, raw: request.raw, name, muted: this.#replyMuted(name, request.args) });
    void this.#pump();
  }

  /**
   * CLIENT REPLY, emulated: the server keeps replying (the runtime needs every reply to keep commands in order)
   * and the runtime drops the replies the client silenced. As in redis-server, OFF and SKIP get no reply, SKIP
   * silences the next command, ON replies OK and ends both. Pushes (pub/sub messages) are never silenced.
   */
  #replyMuted(name: string, args: readonly Buffer[]): boolean {
    const mode = name === 'client' ? clientReplyMode(args) : null;
    if (mode === 'on') {
      this.#replyMode = 'on';
      return false;
    }
    if (mode === 'off' || mode === 'skip') {
      if (mode === 'off') this.#replyMode = 'off';
      else if (this.#replyMode !== 'off') this.#replyMode = 'skip-next';
      return true;
    }
    if (this.#replyMode === 'skip-next') {
      this.#replyMode = 'on';
      return true;
    }
    return this.#replyMode === 'off';
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      await this.#ready;
      while (this.#commands.length > 0 && !this.#closed) {
        const command = this.#commands.shift()!;
        const route = this.#route(command);
        if (route === 'shared') {
          const batch = [command];
          while (this.#commands.length > 0 && this.#route(this.#commands[0]!) === 'shared') batch.push(this.#commands.shift()!);
          await this.#runShared(batch);
        } else {
          await this.#runSpecial(route, command);
        }
      }
      if (this.#protocolError !== undefined && !this.#closed) await this.#closeAfterProtocolError(this.#protocolError);
    } catch (cause) {
      if (!this.#closed) this.#deps.log.warn({ err: errorMessage(cause) }, 'client connection failed');
      this.close();
    } finally {
      this.#pumping = false;
    }
  }

  /** As redis-server does: every earlier command answered, then the error, then the connection closed. */
  async #closeAfterProtocolError(message: string): Promise<void> {
    await this.#drained();
    if (this.#closed) return;
    this.#output.append(encode(error(`ERR ${message}`), this.#protocol));
    this.#closed = true;
    this.#closedError = new Error('client connection closed after a protocol error');
    this.#upstream?.destroy();
    // Closed both ways, as redis-server closes: a client still writing gets a reset, not a half-open socket.
    this.#client.end(() => this.#client.destroy());
  }

  #route(command: ClientCommand): Route | 'raw' {
    if (this.#rawMode !== null) return 'raw';
    const { name, args } = command;
    const gears = gearsCommandName(name);
    if (this.#inMulti) {
      if (gears) return 'queue-gears';
      if (name === 'exec') return 'exec';
      if (TRACKED.has(name)) return 'tracked';
      return 'shared'; // queued by the server: it executes nothing now
    }
    if (gears) return 'gears';
    if (TRACKED.has(name)) return 'tracked';
    if (PUBSUB_COMMANDS.has(name)) return 'pubsub';
    if (name === 'monitor') return 'monitor';
    if (name === 'client' && clientReplyMode(args) !== null) return 'client-reply';
    if (name === 'sync' || name === 'psync') return 'refuse-sync';
    if (reachesBusyServer(name, args)) return 'unlocked';
    if (name === 'client' && args.length > 2 && args[1]!.toString('latin1').toLowerCase() === 'kill') return 'client-kill';
    if (isIntrospection(name, args)) return 'introspect';
    if (this.#deps.table.mayBlock(args, name)) return 'blocking';
    const keys = this.#deps.table.keysOf(args, name);
    if (keys === null) return 'markered';
    const readOnly = this.#deps.table.isReadOnly(args, name);
    for (const key of keys) if (this.#deps.scheduler.isRelevant(key, readOnly)) return 'markered';
    return 'shared';
  }

  async #runSpecial(route: Route | 'raw', command: ClientCommand): Promise<void> {
    switch (route) {
      case 'raw':
        return this.#runRaw(command);
      case 'markered':
        return this.#runMarkered(command);
      case 'gears':
        return this.#runGears(command, gearsCommandName(command.name)!);
      case 'tracked':
        return this.#runTracked(command);
      case 'blocking':
        return this.#runBlocking(command);
      case 'pubsub':
        return this.#runPubSub(command);
      case 'monitor':
        this.#monitorHides = await this.#deps.ownTraffic.addresses();
        await this.#drained();
        this.#rawMode = 'monitor';
        this.#upstream!.write(command.raw);
        return;
      case 'exec':
        return this.#transactionHasGears || this.#transactionLocalError ? this.#runGearsTransaction(command) : this.#runMarkered(command);
      case 'queue-gears':
        return this.#queueGears(command, gearsCommandName(command.name)!);
      case 'client-reply':
        // Answered here: the server keeps replying to everything, the runtime drops what the client silenced.
        if (!command.muted) this.#replyNow(command, encode(simple('OK'), this.#protocol));
        return;
      case 'refuse-sync':
        this.#replyNow(command, encode(error(`ERR ${command.name.toUpperCase()} is not supported by the RedisGears runtime: replicate from the redis-server behind it`), this.#protocol));
        return;
      case 'unlocked':
        return this.#runUnlocked(command);
      case 'client-kill':
        return this.#runClientKill(command);
      case 'introspect':
        return this.#runIntrospection(command);
      case 'shared':
        return this.#runShared([command]);
    }
  }

  // ---- routes ---------------------------------------------------------------------------------------------

  /** Commands that cannot fire a trigger: one shared hold for the batch, replies forwarded as they arrive. */
  async #runShared(batch: ClientCommand[]): Promise<void> {
    const release = await this.#deps.scheduler.lock.shared();
    const scheduler = this.#deps.scheduler;
    let remaining = batch.length;
    const done = () => {
      if (--remaining === 0) {
        release();
        scheduler.noteSharedCommandDone();
      }
    };
    const queuing = this.#inMulti;
    const parts: Buffer[] = [];
    for (const command of batch) {
      const slot = this.#reserve(command, true);
      if (queuing) this.#transaction.push({ command, gears: undefined });
      this.#expect({
        reply: (raw) => {
          if (queuing) this.#noteQueued(decodeFrame(raw));
          this.#output.fill(slot, raw);
          done();
        },
        fail: release,
      });
      parts.push(command.raw);
    }
    this.#upstream!.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }

  /**
   * What the server runs while the lock is held: SCRIPT KILL, FUNCTION KILL, CLIENT UNPAUSE. They fire nothing,
   * and they must reach a server whose busy script or pause is what holds the lock.
   */
  async #runUnlocked(command: ClientCommand): Promise<void> {
    const slot = this.#reserve(command, true);
    this.#expect({ reply: (raw) => this.#output.fill(slot, raw), fail: () => undefined });
    this.#upstream!.write(command.raw);
  }

  /** CLIENT KILL, kept away from the runtime's own connections (see client-kill.ts). */
  async #runClientKill(command: ClientCommand): Promise<void> {
    const clients = parseClientList(await this.#deps.control.send(['CLIENT', 'LIST']));
    const plan = planClientKill(command.args, this.#deps.ownTraffic.ids, clients);
    if (plan.kind === 'pass') return this.#runUnlocked(command);
    const slot = this.#reserve(command, false);
    if (plan.kind === 'reply') {
      this.#output.fill(slot, encode(plan.reply, this.#protocol));
      return;
    }
    const replies = plan.commands.map(() => this.#expectValue());
    this.#upstream!.write(Buffer.concat(plan.commands.map((args) => encodeCommand(args))));
    this.#output.fill(slot, encode(sumKillReplies(await Promise.all(replies)), this.#protocol));
  }

  /** SLOWLOG GET/LEN, PUBSUB NUMPAT/CHANNELS: the server's answer without the runtime's own traffic. */
  async #runIntrospection(command: ClientCommand): Promise<void> {
    const own = this.#deps.ownTraffic;
    const sub = command.args[1]!.toString('latin1').toLowerCase();
    const count = sub === 'len' ? null : sub === 'get' ? slowlogCount(command.args) : undefined;
    if (command.name === 'slowlog' && count === undefined) return this.#runUnlocked(command); // the server's error
    const slot = this.#reserve(command, false);
    const addresses = await own.addresses();
    const sent = command.name === 'slowlog' ? encodeCommand(['SLOWLOG', 'GET', '-1']) : command.raw;
    const reply = this.#expectValue();
    this.#upstream!.write(sent);
    const value = await reply;
    const shown = command.name === 'slowlog' ? own.slowlog(value, count!, addresses) : sub === 'numpat' ? own.numpat(value) : own.channels(value);
    this.#output.fill(slot, encode(shown, this.#protocol));
  }

  /** A command that may fire triggers: its events are collected with a marker and fired before its reply. */
  async #runMarkered(command: ClientCommand): Promise<void> {
    const scheduler = this.#deps.scheduler;
    const { release, aside } = await scheduler.lock.exclusiveOrAside();
    if (aside) return this.#runAside(command, release);
    const subscriber = scheduler.subscriber;
    const seq = subscriber.nextMarker();
    const marker = subscriber.waitForMarker(seq);
    marker.catch(() => undefined);
    const slot = this.#reserve(command, true, true);
    let reclaim: (() => Promise<void>) | undefined;
    const stepAside = setTimeout(() => (reclaim = scheduler.lock.stepAside()), STEP_ASIDE_AFTER_MS);
    try {
      const reply = this.#expectValue(slot);
      const published = this.#expectValue();
      this.#upstream!.write(Buffer.concat([command.raw, scheduler.markerCommand(seq)]));
      const value = await reply;
      // The connection's user may not be allowed to PUBLISH: the marker then goes on the control connection.
      if ((await published).type === 'error') await scheduler.publishMarker(seq);
      const events = await marker;
      clearTimeout(stepAside);
      await reclaim?.();
      scheduler.noteEventsCollected();
      const transaction = this.#transaction;
      this.#track(command, value);
      this.#afterFlush(command, value, transaction);
      await scheduler.settleClientEvents(events);
    } catch (cause) {
      subscriber.cancel(seq);
      throw cause;
    } finally {
      clearTimeout(stepAside);
      this.#output.release(slot);
      release();
    }
  }

  /**
   * A command that may fire a trigger, sent while the exclusive holder waits on a busy or paused server: sent
   * alone, as to a busy redis-server, which refuses it with BUSY (the usual case) or runs it when it can. In the
   * second case its events arrive with no marker awaited and its triggers run in the background, after its reply.
   */
  async #runAside(command: ClientCommand, release: ReleaseLock): Promise<void> {
    try {
      const slot = this.#reserve(command, true);
      const reply = this.#expectValue(slot);
      this.#upstream!.write(command.raw);
      const transaction = this.#transaction;
      const value = await reply;
      this.#track(command, value);
      this.#afterFlush(command, value, transaction);
      this.#deps.scheduler.noteSharedCommandDone();
    } finally {
      release();
    }
  }

  /** State-changing commands: sent alone, and their reply read before the next command is routed. */
  async #runTracked(command: ClientCommand): Promise<void> {
    const release = await this.#deps.scheduler.lock.shared();
    try {
      const slot = this.#reserve(command, true);
      const reply = this.#expectValue(slot);
      this.#upstream!.write(command.raw);
      const queued = this.#inMulti && !EXECUTED_INSIDE_MULTI.has(command.name);
      if (queued) this.#transaction.push({ command, gears: undefined });
      const value = await reply;
      if (queued) this.#noteQueued(value);
      else this.#track(command, value);
    } finally {
      release();
    }
  }

  /** TFUNCTION / TFCALL / TFCALLASYNC outside a transaction. */
  async #runGears(command: ClientCommand, name: GearsCommandName): Promise<void> {
    const slot = this.#reserve(command, false);
    const arityError = gearsArityError(command, name);
    if (arityError) {
      this.#output.fill(slot, encode(arityError, this.#protocol));
      return;
    }
    const scheduler = this.#deps.scheduler;
    let pending: Promise<RespValue> | undefined;
    const release = await scheduler.lock.exclusive();
    try {
      await scheduler.beforeLibraryWork();
      const host = scheduler.host;
      const before = host.callCount;
      let result: RespValue | Promise<RespValue>;
      try {
        result = host.handleCommand(name, command.args.slice(1), this.#caller(false));
      } catch (cause) {
        result = errorReplyOf(cause);
      }
      await scheduler.settleLibraryWork(before);
      if (isPromise(result)) pending = result;
      else this.#output.fill(slot, encode(result, this.#protocol));
    } finally {
      release();
    }
    // An async function (TFCALLASYNC): the client waits, as a blocked client does, without holding the lock;
    // the host runs the function's Redis work through LockedExecutor.runLocked.
    if (pending) {
      const value = await pending.then((v) => v, errorReplyOf);
      this.#output.fill(slot, encode(value, this.#protocol));
    }
  }

  /** TFCALL inside MULTI: the server does not know it, so the runtime queues it and replays the transaction at EXEC. */
  #queueGears(command: ClientCommand, name: GearsCommandName): void {
    const arityError = gearsArityError(command, name);
    if (arityError) {
      this.#transactionLocalError = true;
      this.#replyNow(command, encode(arityError, this.#protocol));
      return;
    }
    this.#transaction.push({ command, gears: name });
    this.#transactionHasGears = true;
    this.#replyNow(command, QUEUED);
  }

  /**
   * EXEC of a transaction holding gears commands: the server's MULTI is discarded and every queued command is
   * replayed in order, outside MULTI, under the exclusive lock — atomic for the runtime's clients. A WATCH is
   * honoured by asking the server (CLIENT LIST flag `d`) whether a watched key changed, before the DISCARD.
   */
  async #runGearsTransaction(command: ClientCommand): Promise<void> {
    const scheduler = this.#deps.scheduler;
    const slot = this.#reserve(command, false, true);
    const release = await scheduler.lock.exclusive();
    try {
      if (this.#transactionServerError) {
        const reply = this.#expectValue(slot);
        this.#upstream!.write(command.raw);
        this.#track(command, await reply);
        return;
      }
      const dirty = this.#watching && (await this.#watchedKeyChanged());
      const discarded = this.#expectValue();
      this.#upstream!.write(encodeCommand(['DISCARD']));
      await discarded;
      const transaction = this.#transaction;
      this.#inMulti = false;
      this.#watching = false;
      if (this.#transactionLocalError) {
        this.#output.fill(slot, encode(error('EXECABORT Transaction discarded because of previous errors.'), this.#protocol));
        return;
      }
      if (dirty) {
        this.#output.fill(slot, Buffer.from(this.#protocol === 3 ? '_\r\n' : '*-1\r\n'));
        return;
      }
      await scheduler.beforeLibraryWork();
      const replies: RespValue[] = [];
      const clientEvents = [];
      for (let i = 0; i < transaction.length; ) {
        const entry = transaction[i]!;
        if (entry.gears) {
          const host = scheduler.host;
          const before = host.callCount;
          let result: RespValue | Promise<RespValue>;
          try {
            result = host.handleCommand(entry.gears, entry.command.args.slice(1), this.#caller(true));
          } catch (cause) {
            result = errorReplyOf(cause);
          }
          if (isPromise(result)) {
            result.catch(() => undefined);
            result = error('ERR Can not block client for background execution, Blocking is not allow inside multi/exec, Lua, or within another module (RM_Call).');
          }
          replies.push(result);
          await scheduler.settleLibraryWork(before);
          i++;
          continue;
        }
        // A run of server commands: pipelined, with one marker after the run.
        const run: QueuedCommand[] = [];
        while (i < transaction.length && !transaction[i]!.gears) run.push(transaction[i++]!);
        const seq = scheduler.subscriber.nextMarker();
        const marker = scheduler.subscriber.waitForMarker(seq);
        marker.catch(() => undefined);
        const values = run.map(() => this.#expectValue());
        const published = this.#expectValue();
        this.#upstream!.write(Buffer.concat([...run.map((q) => q.command.raw), scheduler.markerCommand(seq)]));
        try {
          for (let j = 0; j < run.length; j++) {
            const value = await values[j]!;
            replies.push(value);
            this.#track(run[j]!.command, value);
            this.#afterFlush(run[j]!.command, value, []);
          }
          if ((await published).type === 'error') await scheduler.publishMarker(seq);
          clientEvents.push(...(await marker));
        } catch (cause) {
          scheduler.subscriber.cancel(seq);
          throw cause;
        }
      }
      this.#output.fill(slot, encode(array(replies), this.#protocol));
      await scheduler.settleClientEvents(clientEvents);
    } finally {
      this.#output.release(slot);
      release();
    }
  }

  /**
   * Blocking commands must not hold the lock while blocked. The command is sent under the exclusive lock; if
   * the server answers at once it was an ordinary command and its events are settled before the reply. If the
   * server reports the connection blocked, the lock is released and the reply forwarded whenever it comes; the
   * events of the command that serves it are seen with that command (or in the background).
   */
  async #runBlocking(command: ClientCommand): Promise<void> {
    const scheduler = this.#deps.scheduler;
    const slot = this.#reserve(command, true, true);
    let release: ReleaseLock | null = await scheduler.lock.exclusive();
    try {
      const reply = this.#expectValue(slot);
      this.#upstream!.write(command.raw);
      if ((await this.#servedOrBlocked(reply)) === 'served') {
        await reply;
        await scheduler.settleClientEvents(await scheduler.collectEvents());
        return;
      }
      release();
      release = null;
      this.#output.release(slot);
      await reply;
    } finally {
      this.#output.release(slot);
      release?.();
    }
  }

  async #servedOrBlocked(reply: Promise<RespValue>): Promise<'served' | 'blocked'> {
    let answered = false;
    reply.then(
      () => (answered = true),
      () => (answered = true),
    );
    const id = await this.#upstreamIdOf();
    if (id === null) return 'blocked';
    for (let poll = 0; ; poll++) {
      // The server may not have read the command yet: poll, backing off so a paused server is not hammered.
      await new Promise((resolve) => (poll < 8 ? setImmediate(resolve) : setTimeout(resolve, Math.min(poll, 20))));
      if (answered) return 'served';
      const info = await this.#deps.control.send(['CLIENT', 'LIST', 'ID', String(id)]);
      if (answered) return 'served';
      const flags = clientListField(info, 'flags');
      if (flags === null || flags.includes('b')) return 'blocked';
    }
  }

  /**
   * The server's id for the upstream connection (CLIENT LIST ID <id> tells whether it blocked or a WATCH failed),
   * found by its address on the control connection: asking on the client's own connection would put a CLIENT ID
   * in its MONITOR and SLOWLOG, and depend on its user being allowed to run it.
   */
  #upstreamIdOf(): Promise<number | null> {
    const upstream = this.#upstream;
    if (upstream === undefined) return Promise.resolve(null);
    this.#upstreamId ??= this.#deps.control.send(['CLIENT', 'LIST']).then(
      (reply) => {
        const ip = upstream.localAddress ?? '';
        const addr = ip.includes(':') ? `[${ip}]:${upstream.localPort}` : `${ip}:${upstream.localPort}`;
        return parseClientList(reply).find((client) => client.addr === addr)?.id ?? null;
      },
      () => null,
    );
    return this.#upstreamId;
  }

  async #watchedKeyChanged(): Promise<boolean> {
    const id = await this.#upstreamIdOf();
    if (id === null) return false;
    const flags = clientListField(await this.#deps.control.send(['CLIENT', 'LIST', 'ID', String(id)]), 'flags');
    return flags !== null && flags.includes('d');
  }

  /** (UN)SUBSCRIBE family. RESP3 replies with pushes; a RESP2 connection switches to raw mode. */
  async #runPubSub(command: ClientCommand): Promise<void> {
    if (this.#deps.table.hasWrongArity(command.args)) return this.#runTracked(command);
    if (this.#protocol === 3) {
      const release = await this.#deps.scheduler.lock.shared();
      this.#upstream!.write(command.raw); // confirmations are pushes: they find their place by themselves
      release();
      return;
    }
    await this.#drained();
    this.#rawMode = 'pubsub';
    this.#upstream!.write(command.raw);
  }

  /** Raw mode: RESP2 subscribed connections and MONITOR; replies are forwarded as they come, in order. */
  async #runRaw(command: ClientCommand): Promise<void> {
    if (this.#rawMode === 'monitor' || ALLOWED_WHILE_SUBSCRIBED.has(command.name)) {
      this.#upstream!.write(command.raw);
      return;
    }
    // Another command: only once everything sent so far is answered do we know whether still subscribed.
    await this.#barrierPing();
    if (this.#channels + this.#shardChannels > 0) {
      this.#upstream!.write(command.raw); // the server refuses it with its own error text
      return;
    }
    this.#rawMode = null;
    this.#commands.unshift(command);
  }

  // ---- upstream → client ----------------------------------------------------------------------------------

  #onUpstreamFrame(raw: Buffer): void {
    if (this.#rawMode !== null && this.#expectations.length === 0) {
      this.#onRawValue(decodeFrame(raw), raw);
      return;
    }
    if (isPushFrame(raw)) {
      const own = this.#deps.ownTraffic;
      if (!(own.mayBeMarkerMessage(raw) && own.isMarkerMessage(decodeFrame(raw)))) this.#output.insertPush(raw);
      return;
    }
    const expectation = this.#expectations.shift();
    if (expectation === undefined) {
      this.#output.append(raw);
      return;
    }
    expectation.reply(raw);
    if (this.#expectations.length === 0) this.#resolveDrainWaiters();
  }

  #onRawValue(value: RespValue, raw: Buffer): void {
    const own = this.#deps.ownTraffic;
    if (this.#rawMode === 'monitor' && value.type === 'simple' && own.isOwnMonitorLine(value.value, this.#monitorHides)) return;
    if (own.isMarkerMessage(value)) return;
    const barrier = this.#barrier;
    if (barrier && isBarrierReply(value, barrier.token)) {
      this.#barrier = undefined;
      barrier.resolve();
      return;
    }
    if ((value.type === 'array' || value.type === 'push') && value.value.length === 3) {
      const [kind, , count] = value.value;
      const kindText = kind?.type === 'blob' ? kind.value.toString('latin1') : '';
      if (count?.type === 'integer') {
        if (['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe'].includes(kindText)) this.#channels = Number(count.value);
        else if (kindText === 'ssubscribe' || kindText === 'sunsubscribe') this.#shardChannels = Number(count.value);
      }
    } else if (value.type === 'simple' && value.value === 'RESET') {
      this.#resetState();
    }
    this.#output.append(raw);
  }

  // ---- helpers --------------------------------------------------------------------------------------------

  #expect(expectation: Expectation): void {
    if (this.#closed || this.#upstream === undefined) {
      expectation.fail(this.#closedError ?? new Error('connection to redis-server closed'));
      return;
    }
    this.#expectations.push(expectation);
  }

  /** A slot for `command`'s reply, silenced if the client turned its replies off. */
  #reserve(command: ClientCommand, fromServer: boolean, held = false): OutputSlot {
    return this.#output.reserve(fromServer, held, command.muted);
  }

  /** `command`'s reply, known now. */
  #replyNow(command: ClientCommand, bytes: Buffer): void {
    this.#output.fill(this.#reserve(command, false), bytes);
  }

  /** The next upstream reply, decoded; written into `slot` if given, swallowed otherwise. */
  #expectValue(slot?: OutputSlot): Promise<RespValue> {
    const value = new Promise<RespValue>((resolve, reject) => {
      this.#expect({
        reply: (raw) => {
          if (slot) this.#output.fill(slot, raw);
          resolve(decodeFrame(raw));
        },
        fail: reject,
      });
    });
    // Several replies are awaited in turn: when the connection closes, those after the first failure are never
    // awaited, and their rejection must not be an unhandled one (it would end the process).
    value.catch(() => undefined);
    return value;
  }

  #drained(): Promise<void> {
    if (this.#expectations.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #resolveDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Sends a PING with a token and waits for its answer: every earlier command is answered by then. */
  #barrierPing(): Promise<void> {
    const token = Buffer.from(`${OWN_TOKEN}_barrier_${++this.#barrierCount}`);
    return new Promise((resolve) => {
      this.#barrier = { token, resolve };
      this.#upstream!.write(encodeCommand([Buffer.from('PING'), token]));
    });
  }

  /**
   * The server's answer to a command queued inside MULTI (recorded in the transaction when dispatched, so that
   * it keeps its place among gears commands queued by the runtime).
   */
  #noteQueued(reply: RespValue): void {
    if (reply.type === 'error') this.#transactionServerError = true;
  }

  /** Updates the tracked connection state from a command and the server's reply to it. */
  #track(command: ClientCommand, reply: RespValue): void {
    const { name, args } = command;
    if (name === 'exec' || name === 'discard') {
      const transaction = this.#transaction;
      const wasInMulti = this.#inMulti;
      this.#inMulti = false;
      this.#watching = false;
      // The queued commands ran now: their state changes (SELECT inside MULTI...) take effect.
      if (wasInMulti && name === 'exec' && reply.type === 'array') {
        transaction.forEach((queued, i) => {
          const result = reply.value[i];
          if (result && !queued.gears) this.#track(queued.command, result);
        });
      }
      return;
    }
    if (reply.type === 'error') return;
    switch (name) {
      case 'hello': {
        if (args.length > 1) this.#protocol = Number(args[1]!.toString()) === 3 ? 3 : 2;
        const auth = args.findIndex((arg, i) => i > 1 && arg.toString('latin1').toLowerCase() === 'auth');
        if (auth > 0 && args[auth + 1]) this.#user = args[auth + 1]!.toString();
        return;
      }
      case 'auth':
        this.#user = args.length >= 3 ? args[1]!.toString() : 'default';
        return;
      case 'select':
        this.#db = Number(args[1]!.toString());
        return;
      case 'multi':
        this.#inMulti = true;
        this.#transaction = [];
        this.#transactionHasGears = false;
        this.#transactionServerError = false;
        this.#transactionLocalError = false;
        return;
      case 'watch':
        this.#watching = true;
        return;
      case 'unwatch':
        this.#watching = false;
        return;
      case 'reset':
        this.#resetState();
        return;
    }
  }

  #resetState(): void {
    this.#protocol = 2;
    this.#db = 0;
    this.#user = 'default';
    this.#inMulti = false;
    this.#watching = false;
    this.#transaction = [];
    this.#transactionHasGears = false;
    this.#channels = 0;
    this.#shardChannels = 0;
  }

  /** FLUSHALL / FLUSHDB (alone or inside an EXEC) passed through: the host forgets what RedisGears forgets. */
  #afterFlush(command: ClientCommand, reply: RespValue, transaction: readonly QueuedCommand[]): void {
    if (reply.type === 'error') return;
    const flushes = command.name === 'exec' && reply.type === 'array' ? transaction.map((q) => q.command.name) : [command.name];
    for (const name of flushes) {
      if (name === 'flushall') this.#deps.scheduler.host.afterFlush('all');
      else if (name === 'flushdb') this.#deps.scheduler.host.afterFlush(this.#db);
    }
  }

  #caller(inTransaction: boolean): CallerContext {
    return { db: this.#db, protocol: this.#protocol, user: this.#user, inTransaction };
  }
}

/** Commands a busy or paused server still runs, which the lock must not hold back. */
function reachesBusyServer(name: string, args: readonly Buffer[]): boolean {
  if (args.length !== 2 || (name !== 'script' && name !== 'function' && name !== 'client')) return false;
  const sub = args[1]!.toString('latin1').toLowerCase();
  return name === 'client' ? sub === 'unpause' : sub === 'kill';
}

function isIntrospection(name: string, args: readonly Buffer[]): boolean {
  if ((name !== 'slowlog' && name !== 'pubsub') || args.length < 2) return false;
  const sub = args[1]!.toString('latin1').toLowerCase();
  return name === 'slowlog' ? sub === 'get' || sub === 'len' : (sub === 'numpat' && args.length === 2) || sub === 'channels';
}

/** The mode of a well-formed `CLIENT REPLY ON|OFF|SKIP`, or null (malformed ones go to the server for its error). */
function clientReplyMode(args: readonly Buffer[]): 'on' | 'off' | 'skip' | null {
  if (args.length !== 3 || args[1]!.toString('latin1').toLowerCase() !== 'reply') return null;
  const mode = args[2]!.toString('latin1').toLowerCase();
  return mode === 'on' || mode === 'off' || mode === 'skip' ? mode : null;
}

function gearsArityError(command: ClientCommand, name: GearsCommandName): RespValue | null {
  if (command.args.length >= GEARS_COMMAND_MIN_ARGS[name]) return null;
  return error(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
}

function errorReplyOf(cause: unknown): RespValue {
  return error(`ERR ${errorMessage(cause)}`);
}

/** An out-of-band push (RESP3), possibly behind an attribute. */
function isPushFrame(raw: Buffer): boolean {
  return raw[0] === 0x3e || (raw[0] === 0x7c && decodeFrame(raw).type === 'push');
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function isBarrierReply(value: RespValue, token: Buffer): boolean {
  if (value.type === 'blob') return value.value.equals(token);
  if (value.type !== 'array' && value.type !== 'push') return false;
  const [kind, payload] = value.value;
  return value.value.length === 2 && kind?.type === 'blob' && kind.value.toString() === 'pong' && payload?.type === 'blob' && payload.value.equals(token);
}

/** One `field=value` of a CLIENT LIST line, or null when the reply holds no client. */
function clientListField(reply: RespValue, field: string): string | null {
  const text = reply.type === 'blob' || reply.type === 'verbatim' ? reply.value.toString('latin1') : '';
  const match = new RegExp(`(?:^| )${field}=(\\S*)`).exec(text);
  return match ? match[1]! : null;
}
