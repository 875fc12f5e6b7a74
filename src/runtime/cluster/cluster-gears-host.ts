/**
 * The library host of a runtime in front of a cluster node: every GearsHost call goes to the local host, and a
 * TFUNCTION LOAD or DELETE that succeeds here is then run on every other shard (PeerRuntimes) before the client
 * gets its reply, as RedisGears does in cluster mode. A peer's `_rg_internals.function LOAD|DELETE …` is
 * applied here only.
 */
import type { CallerContext, GearsCommandName, GearsHost, KeptString, KeyspaceEvent, MarkerSource, TouchedStream } from '../gears-host.js';
import { error, type RespValue } from '../resp/types.js';
import type { PeerRuntimes } from './peer-runtimes.js';

export class ClusterGearsHost implements GearsHost {
  readonly #local: GearsHost;
  readonly #peers: PeerRuntimes;

  constructor(local: GearsHost, peers: PeerRuntimes) {
    this.#local = local;
    this.#peers = peers;
  }

  handleCommand(name: GearsCommandName, args: Buffer[], caller: CallerContext): RespValue | Promise<RespValue> {
    const sub = args[0]?.toString('utf8').toLowerCase();
    const spreads = sub === 'load' || sub === 'delete';
    if (name === '_RG_INTERNALS.FUNCTION') {
      return spreads ? this.#local.handleCommand('TFUNCTION', args, caller) : error(`Unknown subcommand ${sub ?? ''}`);
    }
    if (name !== 'TFUNCTION' || !spreads) return this.#local.handleCommand(name, args, caller);
    // RedisGears blocks the client while the shards load; a transaction cannot block, so nothing is loaded.
    if (caller.inTransaction) return error('ERR Can not block client for background execution, Blocking is not allow inside multi/exec, Lua, or within another module (RM_Call).');
    const local = this.#local.handleCommand(name, args, caller);
    if (local instanceof Promise || local.type === 'error') return local;
    return this.#peers.propagate(args).then((failure) => failure ?? local);
  }

  matchesKeyspaceTrigger(key: Buffer): boolean {
    return this.#local.matchesKeyspaceTrigger(key);
  }

  matchesStreamTrigger(key: Buffer): boolean {
    return this.#local.matchesStreamTrigger(key);
  }

  fireKeyspaceTriggers(events: readonly KeyspaceEvent[]): void {
    this.#local.fireKeyspaceTriggers(events);
  }

  get interruptedTriggers(): number {
    return this.#local.interruptedTriggers ?? 0;
  }

  refireInterruptedTriggers(): void {
    this.#local.refireInterruptedTriggers?.();
  }

  processStreams(streams: readonly TouchedStream[]): void {
    this.#local.processStreams(streams);
  }

  useMarkers(source: MarkerSource): void {
    this.#local.useMarkers?.(source);
  }

  takeCallMarkers(): ReturnType<NonNullable<GearsHost['takeCallMarkers']>> {
    return this.#local.takeCallMarkers?.() ?? { events: [], complete: false };
  }

  passwordRequired(): boolean {
    return this.#local.passwordRequired?.() ?? false;
  }

  mayPublish(user: string, channel: string): boolean {
    return this.#local.mayPublish?.(user, channel) ?? true;
  }

  openReadAhead(key: Buffer, user: string): Buffer[] | null {
    return this.#local.openReadAhead?.(key, user) ?? null;
  }

  offerReadAhead(argv: readonly Buffer[], db: number, reply: RespValue, events: Promise<KeyspaceEvent[]>): void {
    this.#local.offerReadAhead?.(argv, db, reply, events);
  }

  closeReadAhead(): Promise<KeyspaceEvent[]> | null {
    return this.#local.closeReadAhead?.() ?? null;
  }

  get callCount(): number {
    return this.#local.callCount;
  }

  get lastEventfulCall(): number | undefined {
    return this.#local.lastEventfulCall;
  }

  afterFlush(db: number | 'all'): void {
    this.#local.afterFlush(db);
  }

  storeEvent(event: KeyspaceEvent): void {
    this.#local.storeEvent?.(event);
  }

  storeFlushed(): void {
    this.#local.storeFlushed?.();
  }

  keepString(kept: KeptString): void {
    this.#local.keepString?.(kept);
  }

  releaseString(key: string): void {
    this.#local.releaseString?.(key);
  }

  roleChanged(primary: boolean): Promise<void> {
    return this.#local.roleChanged?.(primary) ?? Promise.resolve();
  }

  restore(): Promise<void> {
    return this.#local.restore();
  }

  close(): Promise<void> {
    return this.#local.close();
  }
}
