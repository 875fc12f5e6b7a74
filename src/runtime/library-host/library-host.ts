/**
 * The library host: WHAT runs in the local RedisGears 2 runtime. It loads each library into its own V8 isolate, answers
 * TFUNCTION/TFCALL/TFCALLASYNC, runs keyspace and stream triggers, and keeps libraries and stream positions in
 * the backing Redis. The server (WHEN things run) calls it through GearsHost with its global lock held, and
 * gives it a LockedExecutor for work that starts later (async functions, callAsync continuations…).
 */
import type { CallerContext, GearsCommandName, GearsHost, KeptString, KeyspaceEvent, LockedExecutor, MarkerSource, TouchedStream } from '../gears-host.js';
import type { RespValue } from '../resp/types.js';
import type { Logger } from '../../shared/log.js';
import { SyncRedis } from '../sync-redis/sync-redis.js';
import { dispatchGearsCommand } from '../commands/dispatcher.js';
import type { LibraryRegistry } from '../commands/library-registry.js';
import { AsyncConnectionPool } from './async-connection-pool.js';
import type { CommandTable } from '../command-table.js';
import type { HostServices } from './host-services.js';
import { loadLibrary, readMetadata } from './library-loader.js';
import { LibraryStore, INTERNAL_KEY_PREFIX, standaloneStoreKeys, type StoredPosition, type StoreKeysResolver } from './library-store.js';
import { StoreGuard } from './store-guard.js';
import { clusterStoreKeys } from '../cluster/cluster-store-keys.js';
import type { LoadedLibraryEntry } from './loaded-library.js';
import { StreamReader } from './stream-reader.js';
import { DEFAULT_MEMORY_LIMIT_MB } from './memory-limit.js';
import { LibraryCalls, type RiddenMarkers } from './library-calls.js';
import { StreamAppends } from './stream-appends.js';
import { FunctionRunner } from './function-runner.js';
import { KeyspaceDispatcher } from './keyspace-dispatcher.js';
import { hasPrefix } from '../../shared/byte-prefix.js';
import { StreamTrigger } from './stream-trigger.js';
import { previousStreamId } from '../../shared/stream-id.js';
import { AccessControl } from '../access/access-control.js';
import { requiredRights } from '../commands/command-rights.js';
import { NO_EVICT_COMMAND } from '../handshake.js';

export interface LibraryHostOptions {
  /** The backing redis-server. */
  readonly redisUrl: string;
  readonly executor: LockedExecutor;
  readonly log: Logger;
  /** lock-redis-timeout: how long library code may hold the lock. @defaultValue 500 */
  readonly lockTimeoutMs?: number;
  /**
   * v8-maxmemory: the heap limit of each library's isolate, in MB. A library that exceeds it fails with
   * RedisGears' OOM error from then on; the others keep running. @defaultValue 200
   */
  readonly memoryLimitMb?: number;
  /** The backing server is a cluster node: the store's keys are tagged with a slot it serves. @defaultValue false */
  readonly clusterMode?: boolean;
  /** Told the server id of each connection the host opens (the runtime spares them from its clients' CLIENT KILL). */
  readonly onOwnConnection?: (id: number) => void;
  /** The backing server is a replica (GearsHost.roleChanged). @defaultValue false */
  readonly replica?: boolean;
  /**
   * Makes the runtime's keyspace subscription cover exactly these key prefixes (every trigger's), returning once
   * the server confirmed it; throws otherwise. Called before a library's triggers count, so no write is missed.
   */
  readonly watchPrefixes?: (prefixes: readonly Buffer[]) => void;
  /** The backing server's command table, as the runtime read it (command-table-read.ts): one table, so both agree. */
  readonly commands: CommandTable;
}

/** Libraries restored at start get RedisGears' `db-loading-lock-redis-timeout` for their top-level code. */
const LOADING_TIMEOUT_MS = 30_000;
const INTERNAL_KEY_BYTES = Buffer.from(INTERNAL_KEY_PREFIX, 'latin1');

export class LibraryHost implements GearsHost, LibraryRegistry {
  readonly #libraries = new Map<string, LoadedLibraryEntry>();
  readonly #services: HostServices;
  readonly #store: LibraryStore;
  readonly #guard: StoreGuard;
  readonly #streams: StreamReader;
  readonly #keyspace: KeyspaceDispatcher;
  readonly #functions: FunctionRunner;
  readonly #timeoutMs: number;
  readonly #memoryLimitMb: number;
  /** The server is a primary: stream triggers read, and the store is written. A replica only holds libraries. */
  #primary = true;
  #closing: Promise<void> | null = null;
  #watchPrefixes: (prefixes: readonly Buffer[]) => void = () => undefined;

  private constructor(
    services: HostServices & { pool: AsyncConnectionPool },
    timeoutMs: number,
    memoryLimitMb: number,
    concernsTriggers: { fn: (argv: readonly Buffer[]) => boolean },
    keys: CommandTable,
    storeKeys: StoreKeysResolver,
    appends: StreamAppends,
  ) {
    this.#services = services;
    this.#timeoutMs = timeoutMs;
    this.#memoryLimitMb = memoryLimitMb;
    concernsTriggers.fn = (argv) => this.#mayConcernTriggers(argv, keys);
    // After the store moves to another slot's keys (resharding), every library is written there again.
    this.#store = new LibraryStore(services.syncRedis, storeKeys, () => {
      for (const name of this.#libraries.keys()) this.#persist(name);
    });
    // A key of the store gone by another hand (evicted, expired, deleted) is written again from memory.
    this.#guard = new StoreGuard(
      this.#store,
      {
        isPrimary: () => this.#primary,
        libraryNames: () => [...this.#libraries.keys()],
        positionCount: () => this.#positions().length,
        rewrite: () => this.#rewriteStore(),
      },
      services.executor,
      services.log,
    );
    const libraries = () => this.#libraries.values();
    this.#streams = new StreamReader({ libraries, redis: services.syncRedis, store: this.#store, log: services.log, calls: services.calls, appends, access: services.access });
    this.#keyspace = new KeyspaceDispatcher(libraries, services.log, services.access, () => services.calls.clusterDownReplies);
    this.#functions = new FunctionRunner((name) => this.#libraries.get(name));
  }

  static async create(options: LibraryHostOptions): Promise<LibraryHost> {
    const onOwnConnection = options.onOwnConnection ?? (() => undefined);
    // redis-server's `timeout` or an operator's CLIENT KILL may close it: it is opened again (sync-redis.ts).
    const syncRedis = await SyncRedis.create(options.redisUrl, { onConnection: onOwnConnection, reconnect: { log: options.log } });
    syncRedis.keepSetting(NO_EVICT_COMMAND); // on each connection opened again too; a refusal is not an error
    const commands = options.commands;
    // The host decides which calls concern triggers, and exists only once its services do.
    const concernsTriggers = { fn: (_argv: readonly Buffer[]) => true };
    const appends = new StreamAppends((key) => host.matchesStreamTrigger(key));
    const services = {
      syncRedis,
      pool: new AsyncConnectionPool(options.redisUrl, onOwnConnection),
      executor: options.executor,
      log: options.log,
      commands,
      access: new AccessControl(syncRedis),
      calls: new LibraryCalls(syncRedis, (argv) => concernsTriggers.fn(argv), appends),
      isReplica: () => host.isReplica,
    };
    const memoryLimitMb = options.memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB;
    if (!(memoryLimitMb >= 8)) throw new RangeError('memoryLimitMb must be at least 8');
    // A cluster replica redirects reads (MOVED) unless the connection says READONLY: the store it restores from
    // at start is its primary's, replicated there (docs/runtime.md, replicas and failover).
    if (options.clusterMode === true && options.replica === true) syncRedis.keepSetting(['READONLY']);
    const storeKeys = options.clusterMode === true ? clusterStoreKeys(syncRedis) : standaloneStoreKeys;
    const host: LibraryHost = new LibraryHost(services, options.lockTimeoutMs ?? 500, memoryLimitMb, concernsTriggers, commands, storeKeys, appends);
    host.#primary = options.replica !== true;
    if (options.watchPrefixes) host.#watchPrefixes = options.watchPrefixes;
    return host;
  }

  get isReplica(): boolean {
    return !this.#primary;
  }

  storeNode(): { readonly id: string; readonly tag: string } | null {
    return this.#primary ? (this.#store.keys()?.node ?? null) : null;
  }

  get callCount(): number {
    return this.#services.calls.count;
  }

  get lastEventfulCall(): number {
    return this.#services.calls.lastEventful;
  }

  useMarkers(source: MarkerSource): void {
    this.#services.calls.useMarkers(source);
  }

  takeCallMarkers(): RiddenMarkers {
    return this.#services.calls.takeMarkers();
  }

  passwordRequired(): boolean {
    return this.#services.access.passwordRequired();
  }

  mayPublish(user: string, channel: string): boolean {
    return this.#services.access.mayPublish(user, channel);
  }

  openReadAhead(key: Buffer, user: string): Buffer[] | null {
    const readAhead = this.#services.calls.readAhead;
    const trigger = isInternal(key) ? null : this.#keyspace.firstMatch(key);
    if (trigger === null || !this.#services.access.mayRunAnything(user)) {
      readAhead.close();
      return null;
    }
    return readAhead.open(trigger.prefix.toString('latin1'), key);
  }

  offerReadAhead(argv: readonly Buffer[], db: number, reply: RespValue, events: Promise<KeyspaceEvent[]>): void {
    this.#services.calls.readAhead.offer(argv, db, reply, events);
  }

  closeReadAhead(): Promise<KeyspaceEvent[]> | null {
    return this.#services.calls.readAhead.close();
  }

  /** Whether a trigger could care about the events of this call: its keys are unknown or one is watched. */
  #mayConcernTriggers(argv: readonly Buffer[], table: CommandTable): boolean {
    const keys = table.keysOf(argv);
    if (keys === null) return true;
    for (const key of keys) if (this.matchesKeyspaceTrigger(key) || this.matchesStreamTrigger(key)) return true;
    return false;
  }

  handleCommand(name: GearsCommandName, args: Buffer[], caller: CallerContext): RespValue | Promise<RespValue> {
    return dispatchGearsCommand(this, name, args, caller);
  }

  denial(name: GearsCommandName, args: readonly Buffer[], caller: CallerContext): string | null {
    const rights = requiredRights(name, args);
    return (caller.authenticated ? null : this.#services.access.authDenial()) ?? (rights && this.#services.access.commandDenial(caller.user, rights.argv, rights.shownAs));
  }

  identitiesChanged(): void {
    this.#services.access.invalidate();
  }

  matchesKeyspaceTrigger(key: Buffer): boolean {
    if (isInternal(key)) return false;
    return this.#keyspace.matches(key);
  }

  matchesStreamTrigger(key: Buffer): boolean {
    if (isInternal(key)) return false;
    return this.#streams.matches(key);
  }

  fireKeyspaceTriggers(events: readonly KeyspaceEvent[]): void {
    this.#keyspace.fire(events.filter((e) => !isInternal(e.key)));
  }

  get interruptedTriggers(): number {
    return this.#keyspace.interrupted;
  }

  refireInterruptedTriggers(): void {
    this.#keyspace.refire();
  }

  processStreams(streams: readonly TouchedStream[]): void {
    this.#streams.process(streams.filter((s) => !isInternal(s.key)));
  }

  afterFlush(db: number | 'all'): void {
    // Every write of the store below must find no older position still waiting to ride (stream-reader.ts).
    this.#streams.savePositions();
    for (const { library } of this.#libraries.values()) {
      for (const trigger of library.streamTriggers.values()) {
        for (const [key, state] of trigger.streams) if (db === 'all' || state.db === db) trigger.streams.delete(key);
      }
    }
    // The internal keys live in db 0: write them again.
    if (db === 'all' || db === 0) this.#rewriteStore();
  }

  storeEvent(event: KeyspaceEvent): void {
    this.#guard.note(event);
  }

  storeFlushed(): void {
    this.#guard.noteFlush();
  }

  keepString(kept: KeptString): void {
    this.#guard.keep(kept);
  }

  releaseString(key: string): void {
    this.#guard.release(key);
  }

  /**
   * Writes the whole store again from memory: every library, and every stream position in place of those stored.
   * After a FLUSHALL, and when a key of the store went away by another hand (store-guard.ts).
   */
  #rewriteStore(): void {
    // Every write of the store below must find no older position still waiting to ride (stream-reader.ts).
    this.#streams.savePositions();
    for (const { library } of this.#libraries.values()) this.#persist(library.name);
    this.#store.replacePositions(this.#positions());
  }

  /** Where each stream trigger resumes on each stream it has read: the stream positions the store should hold. */
  #positions(): StoredPosition[] {
    const positions: StoredPosition[] = [];
    for (const { library } of this.#libraries.values()) {
      for (const trigger of library.streamTriggers.values()) {
        for (const state of trigger.streams.values()) {
          const resumeFrom = StreamTrigger.trimPoint(state);
          if (resumeFrom) positions.push({ library: library.name, trigger: trigger.name, db: state.db, stream: state.key, resumeFrom });
        }
      }
    }
    return positions;
  }

  async restore(): Promise<void> {
    const stored = this.#store.loadLibraries();
    const restored: LoadedLibraryEntry[] = [];
    for (const [name, library] of stored) {
      try {
        restored.push(
          loadLibrary(
            { ...library, ...this.#limits(), loadTimeoutMs: Math.max(this.#timeoutMs, LOADING_TIMEOUT_MS), previous: null, rejectExisting: false },
            this.#services,
          ),
        );
      } catch (failure) {
        this.#services.log.error({ library: name, error: String(failure) }, 'stored library failed to load; it is kept in Redis but not running');
      }
    }
    // Subscribed before the triggers count (the subscription narrows from every key at start to these).
    this.#watchPrefixes(watchedPrefixes(restored));
    for (const loaded of restored) this.#libraries.set(loaded.library.name, loaded);
    if (!this.#primary) return;
    for (const position of this.#store.loadPositions()) {
      const trigger = this.#libraries.get(position.library)?.library.streamTriggers.get(position.trigger);
      if (!trigger) continue;
      const state = trigger.state(position.db, position.stream);
      state.lastReadId = previousStreamId(position.resumeFrom);
    }
    this.#scanStreams();
  }

  /**
   * Reads every stream under some stream trigger's prefix, for every consumer whose prefix matches, as
   * scan_key_space_for_streams (lib.rs) calls on_stream_touched for every stream of the keyspace.
   */
  #scanStreams(): void {
    const prefixes = [...this.#libraries.values()].flatMap(({ library }) => [...library.streamTriggers.values()].map((t) => t.prefix));
    this.#streams.process(this.#streams.scan(outermostPrefixes(prefixes)));
  }

  async roleChanged(primary: boolean): Promise<void> {
    this.#primary = primary;
    this.#store.forgetKeys();
    if (!primary) {
      this.#streams.discardUnsaved();
      this.#keyspace.dropInterrupted();
      return;
    }
    // As a restarted runtime: the libraries and positions the store holds now, which match the data.
    for (const entry of this.#libraries.values()) this.#retire(entry);
    this.#libraries.clear();
    await this.restore();
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#guard.close();
      try {
        this.#streams.savePositions();
      } catch (error) {
        this.#services.log.warn({ err: error }, 'stream trigger positions not written at close: their entries will be delivered again');
      }
      for (const entry of this.#libraries.values()) this.#retire(entry);
      this.#services.pool.close();
      await this.#services.syncRedis.close();
    })();
    return this.#closing;
  }

  // ---- LibraryRegistry: used by the command handlers (commands/*.ts) ----

  /** TFUNCTION LOAD: throws the error text; atomic (a failed REPLACE keeps the old library and its state). */
  load(code: string, config: string | null, replace: boolean, user: string): void {
    this.#streams.savePositions();
    const metadata = readMetadata(code, config, user);
    const previous = this.#libraries.get(metadata.name) ?? null;
    const loaded = loadLibrary(
      { code, config, user, ...this.#limits(), loadTimeoutMs: this.#timeoutMs, previous: previous?.library ?? null, rejectExisting: previous !== null && !replace },
      this.#services,
    );
    // The new triggers' prefixes are subscribed before they count: a write under them from now on is seen.
    try {
      this.#watchPrefixes(watchedPrefixes([...this.#libraries.values(), loaded]));
    } catch (failure) {
      this.#retire(loaded);
      throw failure instanceof Error ? failure.message : failure;
    }
    if (previous) this.#retire(previous);
    this.#libraries.set(metadata.name, loaded);
    this.#watchPrefixes(watchedPrefixes(this.#libraries.values()));
    // On a replica, the primary's runtime stores the library (and the store replicates here).
    if (!this.#primary) return;
    this.#persist(metadata.name);
    if (previous) {
      for (const [name, trigger] of previous.library.streamTriggers) {
        if (!loaded.library.streamTriggers.has(name)) {
          for (const state of trigger.streams.values()) this.#store.deletePosition({ library: metadata.name, trigger: name, db: state.db, stream: state.key });
        }
      }
    }
    // A new stream trigger (not one a REPLACE upgrades) starts scan_key_space_for_streams: every stream is touched,
    // so every trigger reads what it has not read yet (a stream that came by RESTORE, RENAME or COPY, too).
    if ([...loaded.library.streamTriggers.keys()].some((name) => !previous?.library.streamTriggers.has(name))) this.#scanStreams();
  }

  /** TFUNCTION DELETE. */
  delete(name: string): void {
    const entry = this.#libraries.get(name);
    if (!entry) throw 'library does not exists';
    this.#streams.savePositions();
    this.#retire(entry);
    this.#libraries.delete(name);
    if (this.#primary) this.#store.deleteLibrary(name);
    // Its prefixes stop costing the server a message per write (unless another library watches them too).
    this.#watchPrefixes(watchedPrefixes(this.#libraries.values()));
  }

  libraries(): LoadedLibraryEntry[] {
    return [...this.#libraries.values()];
  }

  get functions(): FunctionRunner {
    return this.#functions;
  }

  #limits(): { timeoutMs: number; memoryLimitMb: number } {
    return { timeoutMs: this.#timeoutMs, memoryLimitMb: this.#memoryLimitMb };
  }

  /** A deleted or replaced library runs nothing more; its isolate's memory is given back. */
  #retire(entry: LoadedLibraryEntry): void {
    entry.library.active = false;
    entry.library.link.dispose();
  }

  #persist(name: string): void {
    const library = this.#libraries.get(name)?.library;
    if (!library) return;
    this.#store.saveLibrary(name, { code: library.metadata.code, config: library.metadata.config, user: library.metadata.user });
  }
}

/**
 * The key prefixes the runtime's keyspace subscription must cover: those the libraries' keyspace and stream
 * triggers watch, and the runtime's own keys, whose store is written again when a key of it goes away
 * (store-guard.ts; one pattern, whose events cost a message per store write: one every 20 ms at most while
 * stream triggers acknowledge).
 */
function watchedPrefixes(entries: Iterable<LoadedLibraryEntry>): Buffer[] {
  const prefixes: Buffer[] = [INTERNAL_KEY_BYTES];
  for (const { library } of entries) {
    for (const trigger of library.keyspaceTriggers.values()) prefixes.push(trigger.prefix);
    for (const trigger of library.streamTriggers.values()) prefixes.push(trigger.prefix);
  }
  return prefixes;
}

/** The prefixes no other one of them starts with: a scan of these finds each stream under any of them once. */
function outermostPrefixes(prefixes: readonly Buffer[]): Buffer[] {
  const sorted = [...prefixes].sort((a, b) => a.length - b.length);
  const kept: Buffer[] = [];
  for (const prefix of sorted) if (!kept.some((outer) => hasPrefix(prefix, outer))) kept.push(prefix);
  return kept;
}

function isInternal(key: Buffer): boolean {
  return hasPrefix(key, INTERNAL_KEY_BYTES);
}
