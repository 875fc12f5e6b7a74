/**
 * Raw mode: a RESP2 connection in subscribed state, or one that ran MONITOR. Its replies are forwarded as a
 * stream, in order, with the runtime's own traffic (marker messages, its connections' MONITOR lines) left out.
 * RESP3 subscribers need none of this: their messages are pushes, which find their place by themselves.
 *
 * CLIENT REPLY OFF holds here too, as redis-server applies it: the (un)subscribe confirmations and messages are
 * pushes and always written, everything else (a PING's reply, the error for a command a subscribed connection may
 * not run, MONITOR's lines) is dropped. RESET clears it before its own reply.
 */
import { decodeFrame } from '../resp/decoder.js';
import { encode, encodeCommand } from '../resp/encoder.js';
import type { RespValue } from '../resp/types.js';
import type { ClientOutput } from './client-output.js';
import { withoutRuntimeKeys } from './own-invalidations.js';
import { OWN_TOKEN, type OwnTraffic } from './own-traffic.js';
import { PUBSUB_COMMANDS } from './router.js';
import type { UpstreamLink } from './upstream-link.js';

/** The kinds of the arrays redis-server pushes to a RESP2 subscriber, which CLIENT REPLY OFF does not silence. */
const PUSH_KINDS = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe', 'message', 'pmessage', 'smessage']);

/** What redis-server accepts from a RESP2 connection in subscribed state. */
const ALLOWED_WHILE_SUBSCRIBED = new Set([...PUBSUB_COMMANDS, 'ping', 'quit']);

export class RawStream {
  #mode: 'pubsub' | 'monitor' | null = null;
  #channels = 0;
  #shardChannels = 0;
  #barrier: { token: Buffer; resolve: () => void } | undefined;
  #barrierCount = 0;
  /** In MONITOR mode: the addresses of the runtime's own connections, whose lines are not shown. */
  #monitorHides: ReadonlySet<string> = new Set();
  readonly #output: ClientOutput;
  readonly #own: OwnTraffic;
  /** The server confirmed RESET: the whole connection is fresh again (CLIENT REPLY on again too). */
  readonly #onReset: () => void;
  /** The client turned its replies off (CLIENT REPLY OFF): only pushes are written. */
  readonly #muted: () => boolean;

  constructor(output: ClientOutput, own: OwnTraffic, onReset: () => void, muted: () => boolean) {
    this.#output = output;
    this.#own = own;
    this.#onReset = onReset;
    this.#muted = muted;
  }

  get active(): boolean {
    return this.#mode !== null;
  }

  /** MONITOR (sent once every earlier reply is in): from now on, a stream of lines. */
  async enterMonitor(link: UpstreamLink, raw: Buffer): Promise<void> {
    this.#monitorHides = await this.#own.addresses();
    await link.drained();
    this.#mode = 'monitor';
    link.write(raw);
  }

  /** A RESP2 (UN)SUBSCRIBE, sent once every earlier reply is in. */
  async enterPubSub(link: UpstreamLink, raw: Buffer): Promise<void> {
    await link.drained();
    this.#mode = 'pubsub';
    link.write(raw);
  }

  /**
   * A command while in raw mode: forwarded (true), or — the connection is no longer subscribed — handed back
   * to be routed as usual (false). Only once everything sent so far is answered is it known which.
   */
  async run(link: UpstreamLink, name: string, raw: Buffer): Promise<boolean> {
    if (this.#mode === 'monitor' || ALLOWED_WHILE_SUBSCRIBED.has(name)) {
      link.write(raw);
      return true;
    }
    await this.#barrierPing(link);
    if (this.#channels + this.#shardChannels > 0) {
      link.write(raw); // the server refuses it with its own error text
      return true;
    }
    this.#mode = null;
    return false;
  }

  /** A frame no command waits for. */
  onFrame(raw: Buffer): void {
    const value = decodeFrame(raw);
    const own = this.#own;
    if (this.#mode === 'monitor' && value.type === 'simple' && own.isOwnMonitorLine(value.value, this.#monitorHides)) return;
    if (own.isMarkerMessage(value)) return;
    // An invalidation redirected to this subscriber (`message __redis__:invalidate`): without the runtime's keys.
    const shown = withoutRuntimeKeys(value);
    if (shown !== undefined) {
      if (shown !== null) this.#output.append(encode(shown, value.type === 'push' ? 3 : 2));
      return;
    }
    const barrier = this.#barrier;
    if (barrier && isBarrierReply(value, barrier.token)) {
      this.#barrier = undefined;
      barrier.resolve();
      return;
    }
    let pushed = value.type === 'push';
    if ((value.type === 'array' || value.type === 'push') && value.value.length >= 3) {
      const [kind, , count] = value.value;
      const kindText = kind?.type === 'blob' ? kind.value.toString('latin1') : '';
      pushed ||= this.#mode === 'pubsub' && PUSH_KINDS.has(kindText);
      if (count?.type === 'integer' && value.value.length === 3) {
        if (['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe'].includes(kindText)) this.#channels = Number(count.value);
        else if (kindText === 'ssubscribe' || kindText === 'sunsubscribe') this.#shardChannels = Number(count.value);
      }
    } else if (value.type === 'simple' && value.value === 'RESET') {
      this.reset();
      this.#onReset();
    }
    if (!pushed && this.#muted()) return;
    this.#output.append(raw);
  }

  /**
   * Every command forwarded so far answered (a barrier PING when in raw mode, where the link counts no replies):
   * what comes after them, a protocol error's reply, must come after theirs.
   */
  async settled(link: UpstreamLink): Promise<void> {
    if (this.#mode !== null) await this.#barrierPing(link);
  }

  reset(): void {
    this.#channels = 0;
    this.#shardChannels = 0;
  }

  /** The connection closed: nothing will answer a barrier. */
  close(): void {
    this.#barrier?.resolve();
  }

  /** Sends a PING with a token and waits for its answer: every earlier command is answered by then. */
  #barrierPing(link: UpstreamLink): Promise<void> {
    const token = Buffer.from(`${OWN_TOKEN}_barrier_${++this.#barrierCount}`);
    return new Promise((resolve) => {
      this.#barrier = { token, resolve };
      link.write(encodeCommand([Buffer.from('PING'), token]));
    });
  }
}

function isBarrierReply(value: RespValue, token: Buffer): boolean {
  if (value.type === 'blob') return value.value.equals(token);
  if (value.type !== 'array' && value.type !== 'push') return false;
  const [kind, payload] = value.value;
  return value.value.length === 2 && kind?.type === 'blob' && kind.value.toString() === 'pong' && payload?.type === 'blob' && payload.value.equals(token);
}
