/**
 * A test double of the runtime's own seam (GearsHost), for the server's conformance tests and until the real
 * LibraryHost lands. It records what the server hands it and lets a test script its triggers and functions.
 * Library code's Redis calls are made synchronously through `redis-cli` (slow, but really synchronous and
 * really against the server, as the real host's calls are), and counted in `callCount`.
 */
import { execFileSync } from 'node:child_process';
import type { CallerContext, GearsCommandName, GearsHost, KeyspaceEvent } from '../../src/runtime/gears-host.js';
import { error, type RespValue } from '../../src/runtime/resp/types.js';

export type SyncCall = (...args: string[]) => string;

export interface TestFunction {
  (call: SyncCall, args: string[], caller: CallerContext): RespValue | Promise<RespValue>;
}

export interface RuntimeTestHostOptions {
  /** The backing redis-server's port (library calls go straight to it). */
  redisPort: number;
  keyspacePrefixes?: string[];
  streamPrefixes?: string[];
  /** Sync keyspace trigger: runs for each batch of matching events, may call Redis. */
  onKeyspace?: (events: readonly KeyspaceEvent[], call: SyncCall) => void;
  /** Sync stream trigger. */
  onStreams?: (streams: readonly { db: number; key: Buffer }[], call: SyncCall) => void;
  /** TFCALL functions by name (the `<lib>.` part is ignored). */
  functions?: Record<string, TestFunction>;
}

export class RuntimeTestHost implements GearsHost {
  readonly keyspaceBatches: KeyspaceEvent[][] = [];
  readonly streamBatches: { db: number; key: Buffer }[][] = [];
  readonly flushes: (number | 'all')[] = [];
  readonly commands: { name: GearsCommandName; args: string[]; caller: CallerContext }[] = [];
  restores = 0;
  closed = false;
  #callCount = 0;
  readonly #options: RuntimeTestHostOptions;

  constructor(options: RuntimeTestHostOptions) {
    this.#options = options;
  }

  get callCount(): number {
    return this.#callCount;
  }

  get keyspaceEvents(): KeyspaceEvent[] {
    return this.keyspaceBatches.flat();
  }

  /** Synchronous Redis call from "library code", on database `db`. */
  call(db: number, ...args: string[]): string {
    this.#callCount++;
    return execFileSync('redis-cli', ['-p', String(this.#options.redisPort), '-n', String(db), ...args], { encoding: 'utf8' }).trimEnd();
  }

  handleCommand(name: GearsCommandName, args: Buffer[], caller: CallerContext): RespValue | Promise<RespValue> {
    const text = args.map((a) => a.toString());
    this.commands.push({ name, args: text, caller });
    if (name === 'TFUNCTION') return error('ERR TFUNCTION is not implemented by the runtime test host');
    const fn = this.#options.functions?.[text[0]!.split('.').pop()!];
    if (!fn) return error(`ERR Unknown function ${text[0]}`);
    return fn((...a) => this.call(caller.db, ...a), text.slice(1), caller);
  }

  matchesKeyspaceTrigger(key: Buffer): boolean {
    return (this.#options.keyspacePrefixes ?? []).some((prefix) => key.subarray(0, Buffer.byteLength(prefix)).equals(Buffer.from(prefix)));
  }

  matchesStreamTrigger(key: Buffer): boolean {
    return (this.#options.streamPrefixes ?? []).some((prefix) => key.subarray(0, Buffer.byteLength(prefix)).equals(Buffer.from(prefix)));
  }

  fireKeyspaceTriggers(events: readonly KeyspaceEvent[]): void {
    this.keyspaceBatches.push([...events]);
    this.#options.onKeyspace?.(events, (...a) => this.call(events[0]!.db, ...a));
  }

  processStreams(streams: readonly { db: number; key: Buffer }[]): void {
    this.streamBatches.push([...streams]);
    this.#options.onStreams?.(streams, (...a) => this.call(streams[0]!.db, ...a));
  }

  afterFlush(db: number | 'all'): void {
    this.flushes.push(db);
  }

  async restore(): Promise<void> {
    this.restores++;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
