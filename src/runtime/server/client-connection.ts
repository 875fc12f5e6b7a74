/**
 * One client of the runtime. Each client gets its own upstream connection to redis-server (upstream-link.ts), so
 * everything that is per-connection there (SELECT, MULTI/WATCH, pub/sub, blocking commands, CLIENT SETNAME, ACL
 * user) behaves exactly as redis-server makes it behave, and the server's reply bytes are forwarded unchanged.
 *
 * This class keeps the pump and the dispatch: commands are taken in order, routed (router.ts), and run by the
 * route's method below. The session (session.ts) follows the connection's state; the marker fence
 * (marker-fence.ts) orders a command's trigger work before its reply; TF commands go to the library host
 * (library-call.ts); subscribed RESP2 and MONITOR connections are forwarded as a stream (raw-stream.ts).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { errorMessage } from '../../shared/errors.js';
import { withoutBlock, type CommandTable } from '../command-table.js';
import { gearsCommandName } from '../commands/index.js';
import type { GearsCommandName } from '../gears-host.js';
import { decodeFrame } from '../resp/decoder.js';
import { RequestParser, type ClientRequest, type RequestLimits } from '../resp/request-parser.js';
import { encode, encodeCommand } from '../resp/encoder.js';
import { error, simple, type RespValue } from '../resp/types.js';
import { ByteRuns } from './byte-runs.js';
import { InputGate } from './input-gate.js';
import { CLIENT_OWED_CAP, ClientOutput, type OutputSlot, type OwedLimit } from './client-output.js';
import { callLibrary, errorReplyOf, gearsArityError, isPromise } from './library-call.js';
import { sendFenced } from './marker-fence.js';
import { isPauseCommand } from './client-pause.js';
import { keepRuntimeSettings, OUTPUT_LIMIT_SETTING, type KeptSettings } from './kept-settings.js';
import { replayTransaction } from './transaction-replay.js';
import { servedOrBlocked } from './upstream-probe.js';
import type { OwnTraffic } from './own-traffic.js';
import { answerWithoutOwnTraffic } from './own-traffic-commands.js';
import { RawStream } from './raw-stream.js';
import { mayNameRuntimeKey, withoutRuntimeKeys } from './own-invalidations.js';
import { pipeReplication } from './replication-pipe.js';
import type { RedisAddress } from '../../shared/redis-address.js';
import type { RedisConnection } from './redis-connection.js';
import type { ReleaseLock } from './execution-lock.js';
import { clientReplyMode, PUBSUB_COMMANDS, route, type Route } from './router.js';
import { ReplyMode, type ClientReplyMode } from './reply-mode.js';
import { Session, type QueuedCommand, type SessionCommand } from './session.js';
import { MARKER_PUMP_MS, type TriggerScheduler } from './trigger-scheduler.js';
import type { TriggerWindows } from '../replication/trigger-windows.js';
import { isPushFrame, UpstreamLink } from './upstream-link.js';
import type { ServerOutputLimit } from './output-limit.js';

export interface ClientConnectionDeps {
  readonly address: RedisAddress;
  readonly table: CommandTable;
  readonly scheduler: TriggerScheduler;
  /** The runtime's control connection (CLIENT LIST lookups). */
  readonly control: RedisConnection;
  /** The runtime's own connections and channels, kept out of what clients see and kill. */
  readonly ownTraffic: OwnTraffic;
  /** The trigger windows that replication pipes hold back (replication/trigger-windows.ts). */
  readonly windows: TriggerWindows;
  /** redis-server's protocol limits, as read at start. */
  readonly limits: () => RequestLimits;
  /** What the runtime keeps of redis-server's settings in a client's CONFIG SET (kept-settings.ts). */
  readonly kept: KeptSettings;
  /** redis-server's `client-output-buffer-limit normal`, applied to what a client has not taken (output-limit.ts). */
  readonly outputLimit: ServerOutputLimit;
  readonly log: Logger;
}

/** A `CONFIG SET` of `client-output-buffer-limit` (among others): the runtime applies its `normal` class too. */
function setsOutputLimit(args: readonly Buffer[]): boolean {
  if (args.length < 4 || args[0]!.toString('latin1').toLowerCase() !== 'config' || args[1]!.toString('latin1').toLowerCase() !== 'set') return false;
  for (let i = 2; i < args.length; i += 2) if (args[i]!.toString('latin1').toLowerCase() === OUTPUT_LIMIT_SETTING) return true;
  return false;
}

/** What redis-server runs at once inside MULTI instead of queuing. */
const EXECUTED_INSIDE_MULTI = new Set(['exec', 'discard', 'multi', 'watch', 'reset', 'quit']);
const QUEUED = encode(simple('QUEUED'), 2);
/** What a CLIENT REPLY OFF or SKIP queued in MULTI is sent as: queued alike, and it leaves the server replying. */
const CLIENT_REPLY_ON = encodeCommand(['CLIENT', 'REPLY', 'ON']);

/** A request read, waiting for its turn: whether its reply is silenced is decided when its turn comes. */
interface PendingCommand extends SessionCommand {
  raw: Buffer;
  muted: boolean;
  /** An empty request (`*0`, a blank line) came just before it. */
  readonly afterEmpty: boolean;
  /** The number of the chunk of client bytes it was read from. */
  readonly chunk: number;
  decided: boolean;
  /** An EXEC whose transaction queued CLIENT REPLY: the CLIENT REPLY mode of each queued command (null: another). */
  execModes?: (ClientReplyMode | null)[];
  /** A CLIENT REPLY outside a transaction: applied once the server accepted it (#runClientReply). */
  replyMode?: ClientReplyMode;
}
/**
 * How long a markered command may wait on the server before the lock steps aside for shared commands: past it,
 * the server is likely busy with a long script or paused, and serves (or BUSY-refuses) other clients itself.
 */
const STEP_ASIDE_AFTER_MS = 500;
/**
 * How long a client's commands run back to back before the event loop reads the other sockets (ms). Captured
 * writes wait for redis-server synchronously, so without a turn a pipeline read in one chunk (hundreds of
 * writes) runs whole while every other client's commands sit unread, where the lock's FIFO cannot see them.
 */
const OTHERS_READ_AFTER_MS = 1;
/** How long a client whose server connection closed may take to read its last replies before it is dropped. */
const UPSTREAM_CLOSED_GRACE_MS = 1_000;

export class ClientConnection {
  /** The connection's state as redis-server sees it; `session.user` is its ACL user. */
  readonly session: Session;
  readonly #client: Socket;
  readonly #deps: ClientConnectionDeps;
  readonly #output: ClientOutput;
  readonly #raw: RawStream;
  readonly #commands: PendingCommand[] = [];
  readonly #onData: (chunk: Buffer) => void;
  #link: UpstreamLink | undefined;
  #ready: Promise<void>;
  #pumping = false;
  #closed = false;
  readonly #replies = new ReplyMode();
  /** An empty request was read since the last request (it ends a CLIENT REPLY SKIP, in its place). */
  #afterEmpty = false;
  /** A QUIT was read: redis-server reads nothing after it. */
  #quitRead = false;
  /** Chunks of client bytes received, and the last one a command whose reply is not silenced was read from. */
  #chunks = 0;
  #shownChunk = -1;
  /** A protocol error ended the input: reply it after everything earlier, then close. */
  #protocolError: { message: string; afterEmpty: boolean; chunk: number } | undefined;
  /** An AUTH or HELLO was read: later requests are not held to the limits of a client that has not authenticated. */
  #authAsked = false;
  /** The pump waits for the client to take what it is owed, or for replies in flight (#roomToSend). */
  #roomWaiter: (() => void) | null = null;
  /** The socket became a replication pipe: its reading is the pipe's. */
  #handedOver = false;
  readonly #input: InputGate;

  constructor(client: Socket, deps: ClientConnectionDeps) {
    this.#client = client;
    this.#deps = deps;
    this.session = new Session(() => deps.scheduler.host.identitiesChanged?.());
    this.#output = new ClientOutput(
      client,
      (backlogged) => this.#onBacklog(backlogged),
      () => deps.outputLimit.current,
      (limit, owed) => this.#closeForOutputLimit(limit, owed),
    );
    this.#raw = new RawStream(
      this.#output,
      deps.ownTraffic,
      () => {
        this.session.reset();
        this.#replies.reset();
      },
      () => this.#replies.muted,
    );
    this.#input = new InputGate(client, () => this.#closed || this.#handedOver);
    client.setNoDelay(true);
    const parser = new RequestParser(
      {
        onRequest: (request) => this.#onClientRequest(request),
        onEmptyRequest: () => (this.#afterEmpty = true),
        onProtocolError: (message) => {
          if (this.#quitRead) return;
          this.#protocolError = { message, afterEmpty: this.#afterEmpty, chunk: this.#chunks };
          void this.#pump();
        },
        onQueryBufferOverflow: () => this.close(),
      },
      deps.limits,
      // Requests after an AUTH or HELLO are read as the server may read them, authenticated: it still applies
      // its own limits to what it gets, the runtime must only not wait where the server would have refused.
      () => !this.session.authenticated && !this.#authAsked && (deps.scheduler.host.passwordRequired?.() ?? false),
    );
    this.#onData = (chunk: Buffer) => {
      this.#chunks++;
      parser.push(chunk);
    };
    client.on('data', this.#onData);
    client.on('error', () => this.close());
    client.on('close', () => this.close());
    this.#ready = this.#connectUpstream();
    this.#ready.catch(() => undefined);
  }

  /**
   * The client stopped taking what it is owed (true), or took it all (false). While it does not, neither its input
   * is read (the kernel's buffers fill and TCP holds the client back) nor its commands sent (#pump): a client that
   * pipelines without reading cannot make the runtime hold its replies without bound. Its connection to the server
   * is paused too while no reply is awaited (UpstreamLink.setClientBacklogged).
   */
  #onBacklog(backlogged: boolean): void {
    this.#link?.setClientBacklogged(backlogged);
    this.#input.hold('backlog', backlogged);
    if (!backlogged) this.#wakePump();
  }

  /**
   * Past redis-server's `client-output-buffer-limit normal`: closed at once, as redis-server closes its own client
   * (what it is owed is dropped), and said as it says it. Past CLIENT_OWED_CAP too, the runtime's own bound.
   */
  #closeForOutputLimit(limit: OwedLimit, owed: number): void {
    if (this.#closed) return;
    const { hard, soft, softSeconds } = this.#deps.outputLimit.current;
    const client = `${this.#client.remoteAddress}:${this.#client.remotePort}`;
    if (limit === 'runtime') {
      this.#deps.log.warn({ client, owed, cap: CLIENT_OWED_CAP }, 'client closed: it does not read the replies it is owed, and they passed what the runtime holds for one client');
    } else {
      this.#deps.log.warn({ client, owed, limit, normal: `${hard} ${soft} ${softSeconds}` }, 'client closed for overcoming of output buffer limits (client-output-buffer-limit normal of redis-server)');
    }
    this.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The bytes the client is owed and has not taken (ClientOutput.owed). */
  get owedBytes(): number {
    return this.#output.owed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#link?.close(new Error('client connection closed'));
    this.#client.destroy();
    this.#raw.close();
    this.#wakePump();
  }

  /**
   * At the runtime's close: close(), and also drop the socket of a connection its upstream closed, which may
   * still be flushing its last replies (#onUpstreamClosed): the listener closes only once every socket is gone.
   */
  shutdown(): void {
    this.close();
    this.#client.destroy();
  }

  async #connectUpstream(): Promise<void> {
    let link: UpstreamLink;
    try {
      link = await UpstreamLink.open(this.#deps.address, {
        unsolicited: (raw) => this.#onUnsolicited(raw),
        closed: () => this.#onUpstreamClosed(),
        replied: () => this.#wakePump(),
      });
    } catch (cause) {
      this.#client.end(encode(error(`ERR the RedisGears runtime cannot reach redis-server: ${errorMessage(cause)}`), 2));
      this.close();
      throw cause;
    }
    if (this.#closed) link.close(new Error('client connection closed'));
    else this.#link = link;
  }

  #onUpstreamClosed(): void {
    this.#raw.close();
    this.#output.flush();
    this.#output.writeNow();
    // The replies the server sent before it closed (a QUIT's +OK) go out, then the socket is closed both ways. A
    // client that does not read would keep it half-closed, with what it is owed, until the runtime stops: it is
    // dropped after UPSTREAM_CLOSED_GRACE_MS, as redis-server drops a client it closes, output and all.
    this.#client.end(() => this.#client.destroy());
    setTimeout(() => this.#client.destroy(), UPSTREAM_CLOSED_GRACE_MS).unref();
    this.#closed = true;
    this.#wakePump();
  }

  /** The link, once connected (the pump awaits #ready before running anything). */
  get #upstream(): UpstreamLink {
    return this.#link!;
  }

  // ---- client → runtime ----------------------------------------------------------------------------------

  #onClientRequest(request: ClientRequest): void {
    if (this.#closed || this.#quitRead) return;
    const name = request.args[0]!.toString('latin1').toLowerCase();
    if (name === 'auth' || name === 'hello') this.#authAsked = true;
    if (name === 'client' && request.args[1]?.toString('latin1').toLowerCase() === 'tracking') this.session.mayTrackReads = true;
    if (name === 'quit') this.#quitRead = true;
    this.#commands.push({ args: request.args, raw: request.raw, name, muted: false, afterEmpty: this.#afterEmpty, chunk: this.#chunks, decided: false });
    this.#afterEmpty = false;
    this.#input.queued(this.#commands.length);
    void this.#pump();
  }

  /** The next command, its reply silenced or not as its turn comes (earlier commands may have opened a MULTI). */
  #take(): PendingCommand {
    const command = this.#commands.shift()!;
    if (!command.decided) this.#decideReply(command);
    return command;
  }

  /**
   * CLIENT REPLY, emulated (reply-mode.ts): the server keeps replying (the runtime needs every reply to keep
   * commands in order) and the runtime drops the replies the client silenced. Pushes are never silenced.
   */
  #decideReply(command: PendingCommand): void {
    command.decided = true;
    if (command.afterEmpty) this.#replies.endRequest();
    // A subscribed RESP2 connection may not run CLIENT REPLY: the server refuses it, and nothing changes.
    const mode = command.name === 'client' && !this.#raw.active ? clientReplyMode(command.args) : null;
    if (this.session.inMulti && !EXECUTED_INSIDE_MULTI.has(command.name)) {
      // Queued by the server, run by its EXEC, which would then stop replying on the runtime's connection.
      if (mode === 'off' || mode === 'skip') command.raw = CLIENT_REPLY_ON;
      command.muted = this.#replies.command(null);
      return;
    }
    const modes = command.name === 'exec' && this.session.inMulti ? this.session.transaction.map(({ command: queued }) => (queued.name === 'client' ? clientReplyMode(queued.args) : null)) : [];
    if (modes.some((m) => m !== null)) {
      command.execModes = modes; // silenced element by element when its reply comes (#shown)
      return;
    }
    if (mode !== null) {
      command.replyMode = mode; // decided when the server has accepted it (#runClientReply)
      return;
    }
    if (command.name === 'reset' && !this.#raw.active) this.#replies.reset();
    command.muted = this.#replies.command(mode);
    // A (un)subscribe's confirmations are pushes, written whatever the reply mode.
    if (!command.muted || PUBSUB_COMMANDS.has(command.name)) this.#shownChunk = command.chunk;
  }

  /**
   * A silenced QUIT or protocol error: redis-server writes no reply, and closes a connection only once a reply is
   * written, so the connection stays open (reading nothing more) unless a reply of a command read with the same
   * bytes was still unwritten then (it writes the replies of what one read brought, after processing it).
   */
  async #silentEnd(chunk: number): Promise<void> {
    if (chunk !== this.#shownChunk) return;
    await this.#upstream.drained();
    await this.#raw.settled(this.#upstream);
    if (this.#closed) return;
    this.#output.writeNow();
    this.#closed = true;
    this.#upstream.close(new Error('client connection closed after a silenced QUIT or protocol error'));
    this.#client.end(() => this.#client.destroy());
  }

  /** The bytes of `command`'s reply the client gets: all of them, except for an EXEC whose transaction queued CLIENT REPLY. */
  #shown(command: SessionCommand, raw: Buffer): Buffer {
    const pending = command as PendingCommand;
    if (pending.execModes === undefined) return raw;
    const shown = this.#replies.execReply(raw, pending.execModes);
    if (shown.length > 0) this.#shownChunk = pending.chunk;
    return shown;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      await this.#ready;
      let turnAt = performance.now();
      while (this.#commands.length > 0 && !this.#closed) {
        if (performance.now() - turnAt > OTHERS_READ_AFTER_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          turnAt = performance.now();
        }
        // Here, between commands, this client holds no lock but shared ones awaiting replies, which are read
        // whatever the client does: waiting here for the client to read holds up no one else.
        if (!this.#output.maySend(this.#upstream.pending)) {
          await this.#roomToSend();
          if (this.#closed) break;
        }
        this.#input.queued(this.#commands.length);
        const command = this.#take();
        // A QUIT whose reply is silenced: redis-server never writes it, so never closes; it reads nothing more.
        if (command.name === 'quit' && command.muted) {
          await this.#silentEnd(command.chunk);
          continue;
        }
        const how = this.#route(command);
        if (how === 'shared') {
          const batch: SessionCommand[] = [command];
          const output = this.#output;
          const link = this.#upstream;
          while (this.#commands.length > 0 && output.maySend(link.pending + batch.length) && this.#route(this.#commands[0]!) === 'shared') batch.push(this.#take());
          await this.#runShared(batch);
        } else {
          await this.#run(how, command);
        }
      }
      this.#input.queued(this.#commands.length);
      if (this.#protocolError !== undefined && !this.#closed) await this.#closeAfterProtocolError(this.#protocolError);
    } catch (cause) {
      if (!this.#closed) this.#deps.log.warn({ err: errorMessage(cause) }, 'client connection failed');
      this.close();
    } finally {
      this.#pumping = false;
    }
  }

  /** Resolves once another command may be sent (ClientOutput.maySend), or the connection closed. */
  #roomToSend(): Promise<void> {
    return new Promise((resolve) => (this.#roomWaiter = resolve));
  }

  /**
   * Wakes a waiting pump once the connection closed, or there is room for as many commands again as are in
   * flight: woken at the first reply with room, the pump would send one command a reply, each a write of its own.
   */
  #wakePump(): void {
    const waiter = this.#roomWaiter;
    if (waiter === null) return;
    if (!this.#closed && !this.#output.maySend(2 * (this.#link?.pending ?? 0))) return;
    this.#roomWaiter = null;
    waiter();
  }

  #route(command: SessionCommand): Route {
    return route(command, { rawMode: this.#raw.active, inMulti: this.session.inMulti }, { table: this.#deps.table, isRelevant: this.#deps.scheduler.isRelevant });
  }

  /**
   * As redis-server does: every earlier command answered, then the error, then the connection closed. A
   * silenced error (CLIENT REPLY OFF or SKIP) is not written, and redis-server, which closes once the reply is
   * written, then leaves the connection open, reading nothing more from it.
   */
  async #closeAfterProtocolError({ message, afterEmpty, chunk }: { message: string; afterEmpty: boolean; chunk: number }): Promise<void> {
    await this.#upstream.drained();
    await this.#raw.settled(this.#upstream);
    if (this.#closed) return;
    this.#protocolError = undefined;
    if (afterEmpty) this.#replies.endRequest();
    if (this.#replies.muted) return this.#silentEnd(chunk);
    this.#output.append(encode(error(`ERR ${message}`), this.session.protocol));
    this.#output.writeNow();
    this.#closed = true;
    this.#upstream.close(new Error('client connection closed after a protocol error'));
    // Closed both ways, as redis-server closes: a client still writing gets a reset, not a half-open socket.
    this.#client.end(() => this.#client.destroy());
  }

  async #run(how: Route, command: SessionCommand): Promise<void> {
    switch (how) {
      case 'raw':
        if (!(await this.#raw.run(this.#upstream, command.name, command.raw))) {
          // No longer subscribed: routed, and its reply decided, as if it came now.
          (command as PendingCommand).decided = false;
          this.#commands.unshift(command as PendingCommand);
        }
        return;
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
        return this.#raw.enterMonitor(this.#upstream, command.raw);
      case 'exec':
        return this.session.transactionHasGears || this.session.transactionLocalError ? this.#runGearsTransaction(command) : this.#runMarkered(command);
      case 'queue-gears':
        return this.#queueGears(command, gearsCommandName(command.name)!);
      case 'client-reply':
        return this.#runClientReply(command as PendingCommand);
      case 'replication':
        this.#commands.length = 0;
        return pipeReplication(this.#client, this.#upstream, () => {
          this.#handedOver = true;
          this.#client.off('data', this.#onData);
          this.#output.writeNow(); // the earlier replies, before the pipe's bytes
        }, command.raw, command.args, this.#deps.windows, this.#deps.log.child({ component: 'replication' }));
      case 'unlocked':
        return this.#runUnlocked(command);
      case 'client-kill':
      case 'introspect':
        return this.#runHidingOwnTraffic(command);
      case 'shared':
        return this.#runShared([command]);
    }
  }

  // ---- routes ---------------------------------------------------------------------------------------------

  /** Commands that cannot fire a trigger: one shared hold for the batch, replies forwarded as they arrive. */
  async #runShared(batch: SessionCommand[]): Promise<void> {
    const release = await this.#deps.scheduler.lock.shared();
    const scheduler = this.#deps.scheduler;
    let remaining = batch.length;
    const done = () => {
      if (--remaining === 0) {
        release();
        scheduler.noteSharedCommandDone();
      }
    };
    const session = this.session;
    const queuing = session.inMulti;
    // A client's pipelined commands are views of the bytes it sent, one after another: one write, no copy.
    const runs = new ByteRuns();
    for (const command of batch) {
      const slot = this.#reserve(command, true);
      if (queuing) session.transaction.push({ command, gears: undefined });
      this.#upstream.expect({
        reply: (raw) => {
          if (queuing) session.noteQueued(decodeFrame(raw));
          this.#output.fill(slot, raw);
          done();
        },
        fail: release,
      });
      runs.add(command.raw);
    }
    this.#upstream.write(runs.takeJoined());
  }

  /**
   * What the server runs while the lock is held: SCRIPT KILL, FUNCTION KILL, CLIENT UNPAUSE. They fire nothing,
   * and they must reach a server whose busy script or pause is what holds the lock. CLIENT PAUSE: its success is
   * noted before its reply is forwarded, so no command sent after it carries a marker the pause would hold.
   */
  async #runUnlocked(command: SessionCommand): Promise<void> {
    const slot = this.#reserve(command, true);
    const pause = isPauseCommand(command.name, command.args) ? this.#deps.scheduler.pause : undefined;
    const reply = (raw: Buffer) => {
      if (pause !== undefined && raw[0] === 0x2b) pause.note(command.args); // +OK
      this.#output.fill(slot, raw);
    };
    this.#upstream.expect({ reply, fail: () => undefined });
    this.#upstream.write(command.raw);
  }

  /** CLIENT KILL, SLOWLOG, PUBSUB introspection: answered without the runtime's own connections and traffic. */
  async #runHidingOwnTraffic(command: SessionCommand): Promise<void> {
    const context = { link: this.#upstream, control: this.#deps.control, own: this.#deps.ownTraffic };
    const answer = await answerWithoutOwnTraffic(command.name, command.args, command.raw, context);
    if (answer === null) return this.#runUnlocked(command);
    this.#replyNow(command, encode(answer, this.session.protocol));
  }

  /** A command that may fire triggers: its events are collected with a marker and fired before its reply. */
  async #runMarkered(command: SessionCommand): Promise<void> {
    const scheduler = this.#deps.scheduler;
    const { release, aside } = await scheduler.lock.exclusiveOrAside();
    if (aside) return this.#runAside(command, release);
    if (!scheduler.isPrimary || scheduler.hasInterruptedTriggers) {
      try {
        await scheduler.confirmRole();
        // Triggers cut by CLUSTERDOWN fire before this command's: in Redis they ran with their writes.
        await scheduler.refireInterrupted();
      } catch (cause) {
        release();
        throw cause;
      }
    }
    // A CLIENT PAUSE queued in the transaction starts as EXEC ends, before the marker behind it: noted before it
    // is sent (the EXEC then gets a fence the pause lets through), and again once it ran, when the pause started.
    const pauses = command.name === 'exec' ? this.session.transaction.filter(({ command: queued }) => isPauseCommand(queued.name, queued.args)) : [];
    for (const { command: queued } of pauses) scheduler.pause.note(queued.args);
    const slot = this.#reserve(command, true, true);
    let reclaim: (() => Promise<void>) | undefined;
    let stepAside: NodeJS.Timeout | undefined;
    try {
      const db = this.session.db;
      const sentAt = performance.now();
      const readAhead = scheduler.openReadAhead(command.args, this.session);
      const fenced = sendFenced(scheduler, this.#upstream, [command.raw], (raw) => this.#output.fill(slot, this.#shown(command, raw)), readAhead ?? undefined, this.session.user);
      // Usually everything came back during sendFenced: there is no wait to step aside from, and no timer to set.
      if (!fenced.arrived) stepAside = setTimeout(() => (reclaim = scheduler.lock.stepAside()), STEP_ASIDE_AFTER_MS - (performance.now() - sentAt));
      const value = await fenced.replies[0]!;
      for (const { command: queued } of pauses) scheduler.pause.note(queued.args);
      const events = await fenced.events;
      clearTimeout(stepAside);
      if (reclaim) await reclaim();
      scheduler.noteEventsCollected();
      const transaction = this.session.transaction;
      this.session.track(command, value);
      this.#afterFlush(command, value, transaction);
      // The command ran and its events are in hand: a read ahead lost with a closing connection must not keep
      // them from firing (its own events go back to the subscriber, marker-fence.ts).
      const sentAhead = fenced.readAhead;
      if (readAhead !== null && sentAhead !== undefined) {
        const ahead = await sentAhead.reply.catch(() => null);
        if (ahead !== null) scheduler.offerReadAhead(readAhead, db, ahead, sentAhead.events);
      }
      await scheduler.settleClientEvents(events);
      const untaken = scheduler.settleReadAhead();
      if (untaken !== null) await untaken;
    } finally {
      scheduler.closeReadAhead();
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
  async #runAside(command: SessionCommand, release: ReleaseLock): Promise<void> {
    try {
      const slot = this.#reserve(command, true);
      const reply = this.#upstream.expectValue((raw) => this.#output.fill(slot, this.#shown(command, raw)));
      this.#upstream.write(command.raw);
      const transaction = this.session.transaction;
      const value = await reply;
      this.session.track(command, value);
      this.#afterFlush(command, value, transaction);
      this.#deps.scheduler.noteSharedCommandDone();
    } finally {
      release();
    }
  }

  /** State-changing commands: sent alone, and their reply read before the next command is routed. */
  async #runTracked(asked: SessionCommand): Promise<void> {
    const kept = asked.name === 'config' ? keepRuntimeSettings(asked.args, this.#deps.kept) : null;
    const command = kept === null ? asked : { ...asked, args: kept, raw: encodeCommand(kept) };
    const release = await this.#deps.scheduler.lock.shared();
    try {
      const slot = this.#reserve(command, true);
      const reply = this.#expectInto(slot);
      this.#upstream.write(command.raw);
      const session = this.session;
      const queued = session.inMulti && !EXECUTED_INSIDE_MULTI.has(command.name);
      if (queued) session.transaction.push({ command, gears: undefined });
      const value = await reply;
      if (queued) session.noteQueued(value);
      else session.track(command, value);
      if (!queued && value.type !== 'error' && setsOutputLimit(command.args)) void this.#deps.outputLimit.refresh();
    } finally {
      release();
    }
  }

  /**
   * Blocking commands must not hold the lock while blocked. The command is sent under the exclusive lock; if
   * the server answers at once it was an ordinary command and its events are settled before the reply. If the
   * server reports the connection blocked, the lock is released and the reply forwarded whenever it comes; the
   * events of the command that serves it are seen with that command (or in the background).
   */
  async #runBlocking(command: SessionCommand): Promise<void> {
    const look = this.#mayFire(command) ? null : withoutBlock(command.args);
    if (look !== null) return this.#runStreamRead(command, look);
    const scheduler = this.#deps.scheduler;
    const slot = this.#reserve(command, true, true);
    let release: ReleaseLock | null = await scheduler.lock.exclusive();
    try {
      const reply = this.#expectInto(slot);
      this.#upstream.write(command.raw);
      if ((await servedOrBlocked(this.#upstream, this.#deps.control, reply)) === 'served') {
        await reply;
        // On keys no trigger watches (the worker's XREADGROUP … BLOCK on its batches stream) there is nothing to
        // fire: like a shared command's, its events are left to the next marker instead of costing one now.
        if (this.#mayFire(command)) await scheduler.settleClientEvents(await scheduler.collectEvents());
        else scheduler.noteSharedCommandDone();
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

  /**
   * XREAD / XREADGROUP … BLOCK on streams no trigger watches (an application waiting for its acknowledgement, the
   * worker waiting for batches): read first without BLOCK. What that read finds, entries or an error, is what the
   * blocking read would have answered at once. Only a read that finds nothing goes again as the client wrote it,
   * still under the lock, so that no other client's command comes between the two reads (a DEL there would turn
   * a wait into an error), and blocks. The lock is held one round trip, with no CLIENT LIST polls to tell served
   * from blocked (#runBlocking: ~0.4 ms a read, during which every captured write waits).
   */
  async #runStreamRead(command: SessionCommand, look: Buffer[]): Promise<void> {
    const scheduler = this.#deps.scheduler;
    const slot = this.#reserve(command, true);
    const release = await scheduler.lock.exclusive();
    let blocked: Promise<RespValue> | undefined;
    try {
      let raw: Buffer | undefined;
      const first = this.#upstream.expectValue((bytes) => (raw = bytes));
      this.#upstream.write(encodeCommand(look));
      // Its reply is back within tens of microseconds: read now, not after an event-loop turn under the lock.
      this.#upstream.pumpReplies(MARKER_PUMP_MS);
      // Entries or an error: the blocking read's own answer. Nothing found (nil): the read goes as written.
      if ((await first).type !== 'null') {
        this.#output.fill(slot, raw!);
      } else {
        blocked = this.#expectInto(slot);
        this.#upstream.write(command.raw);
      }
    } finally {
      release();
      scheduler.noteSharedCommandDone();
    }
    if (blocked !== undefined) await blocked;
  }

  /** Whether the command's keys (unknown: yes) include one a trigger could care about, as the router decides. */
  #mayFire(command: SessionCommand): boolean {
    const { table, scheduler } = this.#deps;
    const keys = table.keysOf(command.args, command.name);
    if (keys === null) return true;
    const readOnly = table.isReadOnly(command.args, command.name);
    return keys.some((key) => scheduler.isRelevant(key, readOnly));
  }

  /** (UN)SUBSCRIBE family. RESP3 replies with pushes; a RESP2 connection switches to raw mode. */
  async #runPubSub(command: SessionCommand): Promise<void> {
    if (this.#deps.table.hasWrongArity(command.args)) return this.#runTracked(command);
    if (this.session.protocol === 3) {
      const release = await this.#deps.scheduler.lock.shared();
      this.#upstream.write(command.raw); // confirmations are pushes: they find their place by themselves
      release();
      return;
    }
    await this.#raw.enterPubSub(this.#upstream, command.raw);
  }

  /**
   * CLIENT REPLY ON|OFF|SKIP outside a transaction, emulated: the server is sent CLIENT REPLY ON, so that it keeps
   * replying to everything (the runtime drops what the client silenced) and still judges the command as its own,
   * refusing it with its own error to a user who may not run it. Only a command it accepted changes the flags.
   */
  async #runClientReply(command: PendingCommand): Promise<void> {
    const release = await this.#deps.scheduler.lock.shared();
    let reply: Buffer;
    try {
      reply = await new Promise<Buffer>((resolve, reject) => {
        this.#upstream.expect({ reply: resolve, fail: reject });
        this.#upstream.write(CLIENT_REPLY_ON);
      });
    } finally {
      release();
    }
    const accepted = reply[0] === 0x2b; // +OK
    command.muted = this.#replies.command(accepted ? (command.replyMode ?? null) : null);
    if (command.muted) return;
    this.#shownChunk = command.chunk;
    this.#replyNow(command, accepted ? encode(simple('OK'), this.session.protocol) : reply);
  }

  /** TFUNCTION / TFCALL / TFCALLASYNC outside a transaction. */
  async #runGears(command: SessionCommand, name: GearsCommandName): Promise<void> {
    const slot = this.#reserve(command, false);
    const arityError = gearsArityError(command.args, name);
    if (arityError) {
      this.#output.fill(slot, encode(arityError, this.session.protocol));
      return;
    }
    const scheduler = this.#deps.scheduler;
    let pending: Promise<RespValue> | undefined;
    const release = await scheduler.lock.exclusive();
    try {
      await scheduler.beforeLibraryWork();
      const { result } = await callLibrary(scheduler, name, command.args, this.session.caller(false));
      if (isPromise(result)) pending = result;
      else this.#output.fill(slot, encode(result, this.session.protocol));
    } finally {
      release();
    }
    // An async function (TFCALLASYNC): the client waits, as a blocked client does, without holding the lock;
    // the host runs the function's Redis work through LockedExecutor.runLocked.
    if (pending) {
      const value = await pending.then((v) => v, errorReplyOf);
      this.#output.fill(slot, encode(value, this.session.protocol));
    }
  }

  /** TFCALL inside MULTI: the server does not know it, so the runtime queues it and replays the transaction at EXEC. */
  #queueGears(command: SessionCommand, name: GearsCommandName): void {
    const arityError = gearsArityError(command.args, name);
    if (arityError) {
      this.session.transactionLocalError = true;
      this.#replyNow(command, encode(arityError, this.session.protocol));
      return;
    }
    this.session.transaction.push({ command, gears: name });
    this.session.transactionHasGears = true;
    this.#replyNow(command, QUEUED);
  }

  /** EXEC of a transaction holding TF commands: replayed by the runtime (transaction-replay.ts). */
  async #runGearsTransaction(command: SessionCommand): Promise<void> {
    const scheduler = this.#deps.scheduler;
    const slot = this.#reserve(command, false, true);
    const protocol = this.session.protocol;
    const release = await scheduler.lock.exclusive();
    try {
      await replayTransaction(command, {
        session: this.session,
        link: this.#upstream,
        scheduler,
        control: this.#deps.control,
        reply: (value) => this.#output.fill(slot, this.#shown(command, Buffer.isBuffer(value) ? value : encode(value, protocol))),
        ran: (queued, value) => this.#afterFlush(queued, value, []),
      });
    } finally {
      this.#output.release(slot);
      release();
    }
  }

  // ---- upstream → client ----------------------------------------------------------------------------------

  /** A frame no command waits for, or a push. */
  #onUnsolicited(raw: Buffer): void {
    if (this.#raw.active && this.#upstream.pending === 0) return this.#raw.onFrame(raw);
    if (!isPushFrame(raw)) return this.#output.append(raw);
    // Only a push that names the runtime's namespace is decoded: a marker message is dropped, an invalidation
    // of client-side caching forwarded without the runtime's keys (own-invalidations.ts).
    if (!mayNameRuntimeKey(raw)) return this.#output.insertPush(raw);
    const value = decodeFrame(raw);
    if (this.#deps.ownTraffic.isMarkerMessage(value)) return;
    const shown = withoutRuntimeKeys(value);
    if (shown === undefined) this.#output.insertPush(raw);
    else if (shown !== null) this.#output.insertPush(encode(shown, 3));
  }

  // ---- helpers --------------------------------------------------------------------------------------------

  /** A slot for `command`'s reply, silenced if the client turned its replies off. */
  #reserve(command: SessionCommand, fromServer: boolean, held = false): OutputSlot {
    return this.#output.reserve(fromServer, held, command.muted);
  }

  /** `command`'s reply, known now. */
  #replyNow(command: SessionCommand, bytes: Buffer): void {
    this.#output.fill(this.#reserve(command, false), bytes);
  }

  /** The next upstream reply, forwarded into `slot`, and decoded. */
  #expectInto(slot: OutputSlot): Promise<RespValue> {
    return this.#upstream.expectValue((raw) => this.#output.fill(slot, raw));
  }

  /** FLUSHALL / FLUSHDB (alone or inside an EXEC) passed through: the host forgets what RedisGears forgets. */
  #afterFlush(command: SessionCommand, reply: RespValue, transaction: readonly QueuedCommand[]): void {
    if (reply.type === 'error') return;
    const flushes = command.name === 'exec' && reply.type === 'array' ? transaction.map((q) => q.command.name) : [command.name];
    for (const name of flushes) {
      if (name === 'flushall') this.#deps.scheduler.host.afterFlush('all');
      else if (name === 'flushdb') this.#deps.scheduler.host.afterFlush(this.session.db);
    }
  }
}

