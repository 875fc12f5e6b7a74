/**
 * The runtime's own traffic on the server, as its clients could see it: the ordering markers (PUBLISH on
 * `__writebehind_runtime__:marker:…`, sometimes on the client's own connection), the barrier PINGs of subscribed
 * connections, the commands of its control connection and its keyspace subscription (`__keyspace@*__:<prefix>*`).
 * These helpers take it out of what MONITOR, SLOWLOG, pattern subscriptions and PUBSUB introspection show a client.
 * What cannot be hidden is listed in docs/runtime.md.
 */
import { RUNTIME_KEY_NAMESPACE } from '../../shared/keys.js';
import { array, integer, textOf, type RespValue } from '../resp/types.js';
import { parseClientList } from './client-kill.js';
import type { RedisConnection } from './redis-connection.js';

/** Every marker channel and barrier token starts with this. */
export const OWN_TOKEN = '__writebehind_runtime';
const OWN_TOKEN_BYTES = Buffer.from(OWN_TOKEN);
/** Marker channels are named in the runtime's namespace, so a push that names none is no marker (own-invalidations.ts). */
const MARKER_CHANNEL_PREFIX = Buffer.from(RUNTIME_KEY_NAMESPACE);
const SLOWLOG_DEFAULT_COUNT = 10;
const TRACKING_CLIENTS = /\r\ntracking_clients:(\d+)\r\n/;

export class OwnTraffic {
  readonly #ids: Set<number>;
  readonly #control: RedisConnection;
  readonly #ownPatterns: () => number;
  readonly #ownTracking: () => number;
  #addresses: ReadonlySet<string> | undefined;

  /**
   * `ownPatterns`: how many patterns the runtime's keyspace subscription holds now (one per watched prefix).
   * `ownTracking`: how many of the runtime's connections have CLIENT TRACKING on (the subscription, which hears of
   * flushes so, unless the server refused it).
   */
  constructor(ids: Iterable<number>, control: RedisConnection, ownPatterns: () => number, ownTracking: () => number = () => 0) {
    this.#ids = new Set(ids);
    this.#control = control;
    this.#ownPatterns = ownPatterns;
    this.#ownTracking = ownTracking;
  }

  /** The server ids of the runtime's own connections. */
  get ids(): ReadonlySet<number> {
    return this.#ids;
  }

  /** Another connection of the runtime's own (the library host opens them as it needs them). */
  add(id: number): void {
    this.#ids.add(id);
    this.#addresses = undefined;
  }

  /**
   * The `addr` the server shows for the runtime's own connections (looked up once). Asked by id: the whole CLIENT
   * LIST (~300 bytes a client) of a server with a few hundred clients outgrows a small client-output-buffer-limit
   * normal, and redis-server closed the control connection instead (the client's SLOWLOG GET or MONITOR with it).
   */
  async addresses(): Promise<ReadonlySet<string>> {
    if (this.#addresses === undefined) {
      const clients = parseClientList(await this.#control.send(['CLIENT', 'LIST', 'ID', ...[...this.ids].filter((id) => id > 0).map(String)]));
      this.#addresses = new Set(clients.filter((client) => this.ids.has(client.id)).map((client) => client.addr));
    }
    return this.#addresses;
  }

  /** A MONITOR line (`<time> [<db> <addr>] "cmd" ...`) of the runtime's own. */
  isOwnMonitorLine(line: string, addresses: ReadonlySet<string>): boolean {
    if (line.includes(`"${OWN_TOKEN}`)) return true;
    const source = /^\S+ \[\d+ ([^\]]+)\]/.exec(line);
    return source !== null && addresses.has(source[1]!);
  }

  /** A pub/sub message (RESP2 array or RESP3 push) on a marker channel. */
  isMarkerMessage(value: RespValue): boolean {
    if (value.type !== 'array' && value.type !== 'push') return false;
    const kind = value.value[0] ? textOf(value.value[0]) : null;
    const channel = kind === 'pmessage' ? value.value[2] : kind === 'message' ? value.value[1] : undefined;
    return channel?.type === 'blob' && channel.value.subarray(0, MARKER_CHANNEL_PREFIX.length).equals(MARKER_CHANNEL_PREFIX);
  }

  /**
   * SLOWLOG GET [count] as the client would see it without the runtime: the whole log is fetched (`-1`), the
   * runtime's entries dropped, then `count` kept. `count` null: SLOWLOG LEN (the number of entries left).
   */
  slowlog(reply: RespValue, count: number | null, addresses: ReadonlySet<string>): RespValue {
    if (reply.type !== 'array') return reply;
    const entries = reply.value.filter((entry) => !this.#isOwnSlowlogEntry(entry, addresses));
    if (count === null) return integer(entries.length);
    return array(count < 0 ? entries : entries.slice(0, count));
  }

  /** PUBSUB NUMPAT less the runtime's keyspace patterns (the server counts distinct patterns). */
  numpat(reply: RespValue): RespValue {
    if (reply.type !== 'integer') return reply;
    const left = reply.value - BigInt(this.#ownPatterns());
    return integer(left > 0n ? left : 0n);
  }

  /** INFO with `tracking_clients` (section clients) less the runtime's tracking connections; other sections as they are. */
  info(reply: RespValue): RespValue {
    if (reply.type !== 'blob' && reply.type !== 'verbatim') return reply;
    const own = this.#ownTracking();
    const text = reply.value.toString('latin1');
    const found = TRACKING_CLIENTS.exec(text);
    if (own === 0 || found === null) return reply;
    const count = Math.max(0, Number(found[1]) - own);
    const value = Buffer.from(`${text.slice(0, found.index)}\r\ntracking_clients:${count}\r\n${text.slice(found.index + found[0].length)}`, 'latin1');
    return { ...reply, value };
  }

  /** PUBSUB CHANNELS without the marker channels. */
  channels(reply: RespValue): RespValue {
    if (reply.type !== 'array') return reply;
    return array(reply.value.filter((channel) => !(channel.type === 'blob' && channel.value.subarray(0, MARKER_CHANNEL_PREFIX.length).equals(MARKER_CHANNEL_PREFIX))));
  }

  #isOwnSlowlogEntry(entry: RespValue, addresses: ReadonlySet<string>): boolean {
    if (entry.type !== 'array') return false;
    const [, , , args, addr] = entry.value;
    if (addr && addresses.has(textOf(addr) ?? '')) return true;
    return args?.type === 'array' && args.value.some((arg) => arg.type === 'blob' && arg.value.includes(OWN_TOKEN_BYTES));
  }
}

/** The count of `SLOWLOG GET [count]`, or undefined when the argument is not a number (the server's error stands). */
export function slowlogCount(args: readonly Buffer[]): number | undefined {
  if (args.length === 2) return SLOWLOG_DEFAULT_COUNT;
  const count = Number(args[2]!.toString('latin1'));
  return args.length === 3 && Number.isInteger(count) && count >= -1 ? count : undefined;
}
