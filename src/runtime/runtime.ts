/**
 * The local RedisGears 2 runtime: a RESP server in front of a real redis-server that passes every command
 * through unchanged, answers TFUNCTION / TFCALL / TFCALLASYNC through the library host, and fires keyspace and
 * stream triggers with RedisGears' timing (before the triggering command's reply, atomically with respect to
 * every other client of the runtime).
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/log.js';
import type { GearsHost, LockedExecutor } from './gears-host.js';
import { LibraryHost } from './library-host/library-host.js';
import { isStoreKey } from './library-host/library-store.js';
import { readCommandTable } from './command-table-read.js';
import { KeyspaceSubscriber } from './server/keyspace-subscriber.js';
import { enableKeyspaceNotifications } from './server/notify-keyspace-events.js';
import { OwnTraffic } from './server/own-traffic.js';
import { assertProtected } from './server/protected-mode.js';
import { parseRedisUrl, type RedisAddress } from '../shared/redis-address.js';
import { RedisConnection } from './server/redis-connection.js';
import { RespServer } from './server/resp-server.js';
import type { KeptSettings } from './server/kept-settings.js';
import { SettingsCheck } from './server/settings-check.js';
import { liftPubSubOutputLimit, readRequestLimits, warnEvictingPolicy } from './server/server-config.js';
import { TriggerScheduler } from './server/trigger-scheduler.js';
import { TriggerWindows } from './replication/trigger-windows.js';
import { ClusterGearsHost } from './cluster/cluster-gears-host.js';
import { isClusterNode, warnUnlessAnnounced } from './cluster/cluster-mode.js';
import { PeerRuntimes } from './cluster/peer-runtimes.js';
import { ReplicationRole } from './replication/replication-role.js';
import { roleAtStart } from './replication/server-role.js';
import { untilRoleSettled } from './replication/settled-role.js';
import { isLeaseKey, leaseKeyOfClusterNode, RuntimeLease } from './runtime-lease.js';
import { RUNTIME_LEASE_KEY } from '../shared/keys.js';
import type { RuntimeLeaseError } from '../shared/errors.js';
import { markRunning, markRunningOnNode, type RunningMark, type StringKeeper } from './unclean-stops.js';
import { myselfOf } from '../shared/cluster-nodes.js';
import { text } from './cluster/cluster-nodes.js';
import { startMetricsServer } from '../shared/metrics-server.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import { ServerOutputLimit } from './server/output-limit.js';
import type { Registry } from 'prom-client';

/** What a library host is built from (the LibraryHost constructor's options). */
export interface GearsHostOptions {
  redisUrl: string;
  executor: LockedExecutor;
  log: Logger;
  lockTimeoutMs?: number;
  memoryLimitMb?: number;
  /** The backing server is a cluster node (LibraryHostOptions.clusterMode). */
  clusterMode?: boolean;
  /** The backing server is a replica (LibraryHostOptions.replica). */
  replica?: boolean;
  /** Told the server id of each connection the host opens to redis-server for itself. */
  onOwnConnection?: (id: number) => void;
  /**
   * Narrows the keyspace subscription to these trigger prefixes (LibraryHostOptions.watchPrefixes). A host that
   * never calls it gets the events of every key.
   */
  watchPrefixes?: (prefixes: readonly Buffer[]) => void;
}

export type GearsHostFactory = (options: GearsHostOptions) => Promise<GearsHost>;

export interface RuntimeOptions {
  /** The backing redis-server. */
  redisUrl: string;
  /**
   * Port to listen on; 0 picks a free one.
   * @defaultValue 6380
   */
  port?: number;
  /**
   * Interface to listen on.
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /**
   * Refuse to listen on a non-loopback interface unless the backing server requires authentication (as
   * redis-server's protected mode refuses outside clients of a server without a password).
   * @defaultValue true
   */
  protectedMode?: boolean;
  /**
   * How long to wait for the backing server to accept the runtime's connections and answer their handshake.
   * @defaultValue 10000
   */
  connectTimeoutMs?: number;
  /** @defaultValue a silent logger */
  log?: Logger;
  /** RedisGears' `lock-redis-timeout`, passed to the library host. */
  lockTimeoutMs?: number;
  /** RedisGears' `v8-maxmemory` of each library's isolate in MB, passed to the library host. */
  memoryLimitMb?: number;
  /**
   * Meter the exclusive lock (runtime-metrics.ts; `Runtime.metricsRegistry` holds the metrics), and with `serve`
   * also serve them on GET /metrics at that port (0: a free one) and interface (loopback unless asked). No
   * metering when absent.
   */
  metrics?: { serve?: { port: number; host?: string } };
  /**
   * How often the runtime checks that the settings it keeps on redis-server (`notify-keyspace-events`, the
   * lifted pubsub output limit) are still there, set back by a `CONFIG SET` sent to the server directly
   * (server/settings-check.ts). A change is noticed within this; writes to watched keys in between may go
   * uncaptured (the worker's repair covers them). One `CONFIG GET` per interval on the control connection, as
   * cheap as the role check beside it. 0 turns the check off: only for tests and benches that switch the flags
   * off on purpose, to stand for writes no capture saw (test/integration/uncaptured-writes.ts).
   * @defaultValue 1000
   */
  settingsCheckMs?: number;
  /**
   * Builds the library host. Tests inject their own here.
   * @defaultValue LibraryHost.create
   */
  createHost?: GearsHostFactory;
}

/**
 * @example
 * ```ts
 * const runtime = await Runtime.start({ redisUrl: 'redis://127.0.0.1:6379', port: 6380 });
 * // redis-cli -p 6380 TFUNCTION LOAD "$(cat dist/writebehind.js)"
 * await runtime.close();
 * ```
 */
export class Runtime extends EventEmitter {
  readonly port: number;
  readonly url: string;
  /** The lock's metrics, when RuntimeOptions.metrics asked for them (another server may serve them too). */
  readonly metricsRegistry: Registry | undefined;
  /** Port of GET /metrics, when RuntimeOptions.metrics.serve asked for it. */
  readonly metricsPort: number | undefined;
  readonly #log: Logger;
  readonly #closers: { name: string; close: () => Promise<void> }[];
  /** The keyspace subscription was lost: the close that follows is not a clean stop (#fail). */
  #subscriptionLost = false;
  #closing: Promise<void> | undefined;

  private constructor(port: number, host: string, metrics: { registry: Registry; port: number | undefined } | undefined, log: Logger, closers: { name: string; close: () => Promise<void> }[]) {
    super();
    this.port = port;
    this.metricsRegistry = metrics?.registry;
    this.metricsPort = metrics?.port;
    this.url = `redis://${host}:${port}`;
    this.#log = log;
    this.#closers = closers;
  }

  static async start(options: RuntimeOptions): Promise<Runtime> {
    const log = options.log ?? silentLogger;
    const address = parseRedisUrl(options.redisUrl);
    const bindHost = options.host ?? '127.0.0.1';
    if (options.protectedMode ?? true) await assertProtected(bindHost, address);
    const closers: { name: string; close: () => Promise<void> }[] = [];
    const closeAll = () => closeInReverse(closers, log);
    let runtime: Runtime | undefined;
    try {
      // The port first, before anything changes on redis-server: a port another runtime over it holds fails here,
      // not after this runtime took that one's running mark (a false unclean stop, and a mark removed as this
      // start failed, so that runtime's real crash would go uncounted). Clients are served once all is ready.
      const listener = await RespServer.bind(options.port ?? 6380, bindHost);
      // Closed last on a failed start; at a stop the 'RESP server' closer below has closed it long before.
      closers.push({ name: 'RESP listener', close: () => listener.close() });
      // redis-server's `timeout` or an operator's CLIENT KILL may close it: it opens again on its next command.
      const control = await RedisConnection.open(address, 'control', { timeoutMs: options.connectTimeoutMs, reconnect: { log }, noEvict: true });
      closers.push({ name: 'control connection', close: () => control.close() });
      const pubsubLimit = await liftPubSubOutputLimit(control, log);
      const kept: KeptSettings = { pubsubLimitLifted: pubsubLimit === 'lifted' };
      await warnEvictingPolicy(control, log);
      const limits = await readRequestLimits(control, log);
      const outputLimit = new ServerOutputLimit(control, log);
      await outputLimit.refresh();
      const controlId = await control.call(['CLIENT', 'ID']);
      const clusterMode = await isClusterNode(control);
      // A restarted primary may be about to become a replica: its role is asked once the cluster settled it.
      if (clusterMode) await untilRoleSettled(control, log);
      const role = await roleAtStart(control, log);
      // Before this runtime writes or fires anything (its running mark, its subscription): a second runtime over
      // the same server refuses here, and a crashed one's lease is waited for (runtime-lease.ts). A replica's
      // runtime takes it once its server is a primary.
      let replication: ReplicationRole | null = null;
      let leaseLost: RuntimeLeaseError | undefined;
      const lease = await RuntimeLease.take({
        control,
        port: listener.port,
        where: address.where,
        log,
        key: clusterMode ? () => leaseKeyOfClusterNode(control) : async () => ((replication === null ? role !== 'replica' : replication.isPrimary) ? RUNTIME_LEASE_KEY : null),
        onLost: (error) => {
          leaseLost = error;
          if (runtime) runtime.#loseLease(error);
        },
      });
      closers.push({ name: 'runtime lease', close: () => lease.release() });
      // Without CONFIG a replica's flags are checked at its promotion (docs/runtime.md, CONFIG renamed away).
      const notifyCheck = await enableKeyspaceNotifications(control, address, role === 'replica', log);
      const table = await readCommandTable((command) => control.send(command));

      const markerChannel = `__writebehind_runtime__:marker:${process.pid}:${randomBytes(6).toString('hex')}`;
      const scheduler = new TriggerScheduler({ control, lease, keysOf: (args) => table.keysOf(args), markerChannel, log });
      const subscriber = await KeyspaceSubscriber.open({
        address,
        markerChannel,
        isRelevant: scheduler.isWatched,
        onUnclaimed: scheduler.scheduleBackground,
        isStoreKey,
        onStoreEvent: scheduler.storeEvent,
        // A lease deleted and taken by another runtime: doubted before any later write's event is read.
        isLeaseKey,
        onLeaseEvent: (event) => lease.noteEvent(event),
        // A FLUSHALL or FLUSHDB, sent through this runtime or not: no keyspace event tells of it.
        onFlush: () => {
          lease.noteEvent({ event: 'flush' });
          scheduler.storeFlushed();
        },
        onFailure: (error) => {
          if (runtime) runtime.#fail(error);
        },
      });
      closers.push({ name: 'keyspace subscriber', close: () => subscriber.close() });
      if (subscriber.noEvictRefusal !== undefined) {
        log.warn({ refused: subscriber.noEvictRefusal }, 'CLIENT NO-EVICT ON was refused for the keyspace subscription: with maxmemory-clients set, a burst of changes to watched keys may get it evicted, and the runtime then closes');
      }
      if (subscriber.trackingRefusal !== undefined) {
        log.warn({ refused: subscriber.trackingRefusal }, 'CLIENT TRACKING was refused for the keyspace subscription: a FLUSHALL or FLUSHDB sent straight to redis-server goes unseen, and the library store, running mark and unclean-stop count it removes stay gone');
      }

      const ownTraffic = new OwnTraffic(new Set([Number(controlId.type === 'integer' ? controlId.value : -1), subscriber.id]), control, () => subscriber.patternCount, () => (subscriber.trackingRefusal === undefined ? 1 : 0));
      control.onReopened((id) => {
        if (id !== null) ownTraffic.add(id);
      });
      // The library host takes the table read above: one table, read once.
      const createHost = options.createHost ?? ((hostOptions: GearsHostOptions) => LibraryHost.create({ ...hostOptions, commands: table }));
      const localHost = await createHost({
        redisUrl: options.redisUrl,
        clusterMode,
        replica: role === 'replica',
        executor: scheduler,
        log: log.child({ component: 'library-host' }),
        onOwnConnection: (id) => ownTraffic.add(id),
        watchPrefixes: (prefixes) => subscriber.watch(prefixes),
        ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
        ...(options.memoryLimitMb === undefined ? {} : { memoryLimitMb: options.memoryLimitMb }),
      });
      // On a cluster, TFUNCTION LOAD/DELETE reach every shard (docs/scale-out.md, the runtime on a cluster).
      const host = clusterMode ? new ClusterGearsHost(localHost, new PeerRuntimes(control, credentialsOf(address))) : localHost;
      closers.push({ name: 'library host', close: () => host.close() });
      scheduler.attach(host, subscriber);
      closers.push({ name: 'trigger scheduler', close: async () => scheduler.close() });
      // A replica's runtime fires nothing until its server is promoted (docs/runtime.md, replicas).
      const promotionCheck = notifyCheck === null ? null : { run: notifyCheck, onFailed: (error: unknown) => runtime && runtime.#emitError(error) };
      replication = role === null ? null : new ReplicationRole(control, scheduler, role, log.child({ component: 'replication' }), promotionCheck);
      if (replication) {
        const watched = replication;
        scheduler.useRole(watched);
        closers.push({ name: 'role watch', close: async () => watched.close() });
      }
      await host.restore();
      replication?.start();

      // Replicas through this runtime receive a trigger window whole (docs/runtime.md, replicas and failover).
      const windows = new TriggerWindows(control, log.child({ component: 'replication' }));
      scheduler.lock.useWindows(windows);
      closers.push({ name: 'trigger windows', close: async () => windows.close() });
      // Pushed before the RESP server's closer: unmarked only once no client write can be in flight, and only at a
      // clean stop: a close after the keyspace subscription was lost may leave writes whose triggers never ran, and
      // after the lease was lost to another runtime the mark is that runtime's too.
      const unmarkAtCleanStop = (unmark: () => Promise<void>) => async () => {
        if (!(runtime && runtime.#subscriptionLost) && leaseLost === undefined) await unmark();
      };
      // The store guard keeps the mark and the count while the runtime runs (library-host/store-guard.ts).
      const keeper: StringKeeper = { keep: (kept) => host.keepString?.(kept), release: (key) => host.releaseString?.(key) };
      let mark: RunningMark | null = null;
      if (!clusterMode && role !== 'replica') {
        mark = await markRunning(control, log, keeper);
        closers.push({ name: 'running mark', close: unmarkAtCleanStop(mark.unmark) });
      } else if (clusterMode && localHost.storeNode !== undefined) {
        // A replica's runtime, or one whose node serves no slot yet, marks itself once its node is a primary
        // serving one (asked with a CLUSTER NODES; the store's names are looked up under the lock).
        const storeNode = localHost.storeNode.bind(localHost);
        const servesSlots = async () => {
          const myself = myselfOf(text(await control.call(['CLUSTER', 'NODES'])));
          return myself !== undefined && myself.replicaOf === null && myself.slots.length > 0;
        };
        mark = await markRunningOnNode(control, async () => ((await servesSlots()) ? scheduler.runLocked(storeNode) : null), log, undefined, keeper);
        closers.push({ name: 'running mark', close: unmarkAtCleanStop(mark.unmark) });
      }
      let metered: { registry: Registry; port: number | undefined } | undefined;
      let metrics: RuntimeMetrics | undefined;
      if (options.metrics !== undefined) {
        metrics = new RuntimeMetrics();
        scheduler.lock.meterHolds(metrics);
        metrics.observeOwed(() => listener.owedBytes);
        metered = { registry: metrics.registry, port: undefined };
        const serve = options.metrics.serve;
        if (serve !== undefined) {
          const metricsServer = await startMetricsServer([metrics.registry], serve.port, serve.host);
          closers.push({ name: 'metrics server', close: () => metricsServer.close() });
          metered.port = metricsServer.port;
          log.info({ host: metricsServer.host, port: metricsServer.port }, 'metrics on /metrics');
        }
      }
      // Where CONFIG GET was refused at start nothing can be checked (docs/runtime.md, CONFIG renamed away).
      if (pubsubLimit !== 'unavailable' && options.settingsCheckMs !== 0) {
        const runningMark = mark;
        const check = new SettingsCheck({
          control,
          kept,
          intervalMs: options.settingsCheckMs ?? 1000,
          firing: () => replication === null || replication.isPrimary,
          countUncleanStop: async () => (runningMark === null ? null : runningMark.countUncleanStop()),
          onOutputLimit: (value) => outputLimit.note(value),
          ...(metrics === undefined ? {} : { meter: metrics }),
          log: log.child({ component: 'settings-check' }),
        });
        // Pushed after the mark's closer: stopped before the clean stop unmarks.
        closers.push({ name: 'settings check', close: () => check.close() });
      }
      const deps = { address, table, scheduler, control, limits: () => limits, kept, outputLimit, ownTraffic, windows, log };
      const server = listener;
      server.serve(deps);
      closers.push({ name: 'RESP server', close: () => server.close() });
      if (clusterMode) await warnUnlessAnnounced(control, server.port, log);
      // Lost to another runtime during the start: that one runs.
      if (leaseLost !== undefined) throw leaseLost;
      runtime = new Runtime(server.port, bindHost, metered, log, closers);
      log.info({ port: server.port, redis: address.where }, 'RedisGears runtime listening');
      return runtime;
    } catch (error) {
      await closeAll();
      throw error;
    }
  }

  /** Closes the listener, every client, the subscriber, the control connection and the host; safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= closeInReverse(this.#closers, this.#log, (error) => this.#emitError(error));
    return this.#closing;
  }

  /**
   * The keyspace subscription is gone (redis-server stopped or dropped it): triggers could no longer fire, so
   * rather than pass commands through silently without them, the runtime closes. Whoever runs it restarts it.
   */
  #fail(error: Error): void {
    this.#subscriptionLost = true;
    this.#log.error(
      { err: errorMessage(error) },
      'keyspace subscription lost: triggers can no longer fire, closing the runtime; its running mark stays, so the next runtime counts an unclean stop and the worker repairs writes whose triggers may not have run',
    );
    this.#emitError(error);
    void this.close();
  }

  /** Another runtime holds the lease (runtime-lease.ts logged it): two runtimes must not both fire, so this one closes. */
  #loseLease(error: RuntimeLeaseError): void {
    this.#emitError(error);
    void this.close();
  }

  #emitError(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/** Runs every close step, last opened first, even when one fails. */
async function closeInReverse(closers: { name: string; close: () => Promise<void> }[], log: Logger, onError?: (error: unknown) => void): Promise<void> {
  for (const closer of [...closers].reverse()) {
    try {
      await closer.close();
    } catch (error) {
      log.warn({ err: errorMessage(error), step: closer.name }, 'closing the runtime: a step failed');
      onError?.(error);
    }
  }
}

/** The backing server's credentials, which the runtime also uses to reach its peers (one ACL across a cluster). */
function credentialsOf(address: RedisAddress): Pick<RedisAddress, 'username' | 'password'> {
  return {
    ...(address.username === undefined ? {} : { username: address.username }),
    ...(address.password === undefined ? {} : { password: address.password }),
  };
}
