/**
 * A Worker with everything around it, as `writebehind worker` and `writebehind start` run it: the MySQL pool
 * and batch writer (checked against the database first), the Redis connections, the library check (at start-up,
 * and while it runs: deployed-config-watch.ts), and the metrics endpoint. `close()` undoes all of it, in reverse, even when a step fails.
 */
import { ConfigError, RedisCommandError, WriteBehindError, errorMessage } from '../shared/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/log.js';
import type { WriteBehindConfig } from '../shared/config.js';
import { LibraryFunction } from '../shared/protocol.js';
import { CaptureFailureWatch } from './capture-failure-watch.js';
import { MysqlBatchWriter } from './mysql/mysql-batch-writer.js';
import { createMysqlPool } from './mysql/mysql-pool.js';
import { MysqlWriteError } from './mysql/mysql-write-error.js';
import { loggableError } from './loggable-error.js';
import { redactUrl } from '../shared/redact-url.js';
import type { Registry } from 'prom-client';
import { startMetricsServer, type MetricsServer } from '../shared/metrics-server.js';
import { ClusterStreamClient, isRedisCluster } from './redis/cluster-stream-client.js';
import { RedisStreamClient } from './redis/redis-stream-client.js';
import { Worker } from './worker.js';
import { DEPLOY_SETTLE_MS, deployedConfigMismatches, deployedConfigOf, listingsDisagree } from './deployed-config.js';
import { DeployedConfigWatch } from './deployed-config-watch.js';
import { LibraryListingPoll } from './library-listing-poll.js';
import { WorkerMetrics } from './worker-metrics.js';
import { ReconcileGauges } from '../reconcile/reconcile-gauges.js';
import { UncleanStopRepair } from './unclean-stop-repair.js';

export interface WorkerServiceOptions {
  /** Where the library runs (the runtime's port or Redis Stack). */
  redisUrl: string;
  mysqlUrl: string;
  config: WriteBehindConfig;
  /** Serve GET /metrics on this port; none when absent. 0 picks a free port. */
  metricsPort?: number;
  /** Interface /metrics listens on. @defaultValue '127.0.0.1' (this machine only) */
  metricsHost?: string;
  /** Other metrics of this process served on the same /metrics (`writebehind start`: the runtime's). */
  alsoServe?: readonly Registry[];
  consumer?: string;
  /** See WorkerOptions.claimMinIdleMs. */
  claimMinIdleMs?: number;
  /** See WorkerOptions.groupRecords. */
  groupRecords?: number;
  /** See WorkerOptions.waitReplicas. */
  waitReplicas?: number;
  /** See WorkerOptions.waitReplicasTimeoutMs. */
  waitReplicasTimeoutMs?: number;
  log: Logger;
  /**
   * A stop asked for while the service starts (`writebehind worker`'s SIGTERM): a start-up wait that can last (the
   * primaries of a cluster settling on one config, up to DEPLOY_SETTLE_MS) ends at once with an INTERRUPTED error,
   * nothing written yet. The service's quick steps do not look at it: they finish, and the caller stops it.
   */
  signal?: AbortSignal;
}

export interface WorkerService {
  readonly worker: Worker;
  /** The port /metrics listens on, when enabled. */
  readonly metricsPort: number | undefined;
  /**
   * Resolves when a redeploy under the running worker changed the capture of one of its writers: that writer
   * was stopped (Worker.stopWriter), the others go on. The error names the field and the fix; `writebehind
   * worker` closes and exits 2 on it. Never resolves otherwise.
   */
  readonly configMismatch: Promise<ConfigError>;
  close(): Promise<void>;
}

export async function startWorkerService(options: WorkerServiceOptions): Promise<WorkerService> {
  const { config, log } = options;
  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  const closeAll = async () => {
    for (const closer of closers.reverse()) {
      try {
        await closer.close();
      } catch (error) {
        log.error({ error: loggableError(error) }, `closing the ${closer.name} failed`);
      }
    }
  };
  try {
    const batchWriter = new MysqlBatchWriter({ pool: createMysqlPool({ url: options.mysqlUrl }), config, log });
    closers.push({ name: 'MySQL pool', close: () => batchWriter.close() });
    try {
      await batchWriter.prepare();
    } catch (cause) {
      if (cause instanceof WriteBehindError) throw cause;
      throw new MysqlWriteError(`cannot use MySQL at ${redactUrl(options.mysqlUrl)}: ${errorMessage(cause)}`, {
        cause,
        context: { suggestion: 'check that MySQL runs and that --mysql / MYSQL_URL names an existing database and a user that can write to it' },
      });
    }
    const onError = (error: Error) => log.debug({ error: loggableError(error) }, 'Redis connection error');
    // On a Redis Cluster every connection is a cluster client (each command to its key's shard), and the
    // writers' per-slot logs are found through each primary (docs/scale-out.md).
    const cluster = await isRedisCluster(options.redisUrl);
    const connectCluster = () => ClusterStreamClient.connectCluster(options.redisUrl, { onError });
    const connectRedis = cluster ? connectCluster : () => RedisStreamClient.connect(options.redisUrl, { onError });
    await checkLibrary(await connectRedis(), config, options.redisUrl, log, options.signal);
    if (cluster) log.info({ redis: redactUrl(options.redisUrl) }, 'Redis is a cluster: a capture log per slot');

    const metrics = new WorkerMetrics();
    let metricsServer: MetricsServer | undefined;
    if (options.metricsPort !== undefined) {
      metricsServer = await startMetricsServer([metrics.registry, ...(options.alsoServe ?? [])], options.metricsPort, options.metricsHost);
      closers.push({ name: 'metrics server', close: () => metricsServer!.close() });
    }
    // One connection for the library's listings (capture failures, the deployed config) and the reconcile gauges;
    // opened before the worker, whose loops ask it about batches of another config, and closed after it.
    const failuresClient = await connectRedis();
    closers.push({ name: 'capture failure connection', close: () => failuresClient.close() });
    const listingPoll = new LibraryListingPoll({ listings: () => failuresClient.libraryListings(), library: config.name, log });
    const deployedConfig = new DeployedConfigWatch(listingPoll, config);
    const worker = new Worker({ config, batchWriter, connectRedis, ...(cluster ? { connectCluster } : {}), log, metrics, deployedCapture: deployedConfig, ...(options.consumer === undefined ? {} : { consumer: options.consumer }), ...(options.claimMinIdleMs === undefined ? {} : { claimMinIdleMs: options.claimMinIdleMs }), ...(options.groupRecords === undefined ? {} : { groupRecords: options.groupRecords }), ...(options.waitReplicas === undefined ? {} : { waitReplicas: options.waitReplicas }), ...(options.waitReplicasTimeoutMs === undefined ? {} : { waitReplicasTimeoutMs: options.waitReplicasTimeoutMs }) });
    // Failures are logged by the worker once per state change; the listener keeps 'error' from crashing us.
    worker.on('error', () => undefined);
    const configMismatch = new Promise<ConfigError>((resolve) => worker.once('config-mismatch', resolve));
    closers.push({ name: 'worker', close: () => worker.close() });
    await worker.start();
    deployedConfig.watch((writer, problems) => worker.stopWriter(writer, problems));
    CaptureFailureWatch.on(listingPoll, { writers: config.writers.map((w) => w.name), log, registry: metrics.registry });
    listingPoll.start();
    closers.push({ name: 'library listing poll', close: async () => listingPoll.stop() });
    const repair = await UncleanStopRepair.start({ redisUrl: options.redisUrl, mysqlUrl: options.mysqlUrl, config, log, cluster });
    closers.push({ name: 'repair after unclean runtime stops', close: () => repair.stop() });
    const reconcileGauges = ReconcileGauges.start({ readHash: (key) => failuresClient.hashGetAll(key), writers: config.writers.map((w) => w.name), registry: metrics.registry });
    closers.push({ name: 'backfill and verify gauges', close: () => reconcileGauges.stop() });
    if (metricsServer !== undefined) log.info({ host: metricsServer.host, port: metricsServer.port }, 'metrics on /metrics');
    let closing: Promise<void> | undefined;
    return { worker, metricsPort: metricsServer?.port, configMismatch, close: () => (closing ??= closeAll()) };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Every node's listing of the library, once the primaries show configs that agree: a worker restarted with the
 * new config while a deploy is still loading the other primaries waits for it (at most DEPLOY_SETTLE_MS), instead
 * of refusing a config the deploy makes right a moment later. Replies that still disagree then are returned.
 */
async function settledListings(client: RedisStreamClient, library: string, log: Logger, signal: AbortSignal | undefined): Promise<unknown[]> {
  const read = () => Promise.all(client.libraryListings().map((listing) => listing(library)));
  const deadline = Date.now() + DEPLOY_SETTLE_MS;
  let replies = await read();
  if (listingsDisagree(replies)) log.info({ library }, `the primaries show different configs of library '${library}' (a deploy under way): waiting up to ${DEPLOY_SETTLE_MS / 1000} s for them to agree before checking this worker's config`);
  while (listingsDisagree(replies) && Date.now() < deadline) {
    try {
      await sleep(250, undefined, { signal });
    } catch (cause) {
      throw new WriteBehindError('INTERRUPTED', `worker stopped while waiting for the primaries to agree on library '${library}' (a deploy under way): nothing was written`, { cause });
    }
    replies = await read();
  }
  return replies;
}

/**
 * The worker needs the library's `cut` and `committed`, for the writers of its config, as it captures them: fail
 * at start-up, with the fix, when it is not there (deployed-config.ts), rather than retry for ever.
 */
async function checkLibrary(client: RedisStreamClient, config: WriteBehindConfig, redisUrl: string, log: Logger, signal: AbortSignal | undefined): Promise<void> {
  const library = config.name;
  try {
    try {
      await client.callFunction(library, LibraryFunction.version, [], []);
    } catch (cause) {
      throw new RedisCommandError(`library '${library}' does not answer at ${redactUrl(redisUrl)}: ${errorMessage(cause)}`, {
        cause,
        context: { library, suggestion: 'deploy it first (writebehind deploy --redis <url> --config <file>), and point --redis at the runtime or Redis Stack, not at a plain redis-server' },
      });
    }
    // On a cluster every primary runs the library: each one's config is checked, once they agree (a deploy
    // loads them one by one; deployed-config.ts).
    const replies = await settledListings(client, library, log, signal);
    let unnamed: string[] = [];
    for (const reply of replies) {
      const deployed = deployedConfigOf(reply);
      if (deployed === null) {
        log.warn({ library }, 'the deployed library shows no config this worker can read: its writers are not checked against this config');
        continue;
      }
      const problems = deployedConfigMismatches(config, deployed);
      if (problems.length > 0) {
        throw new ConfigError(`the worker's config does not match library '${library}' as deployed at ${redactUrl(redisUrl)}: ${problems.join('; ')}`, {
          context: { library, suggestion: 'deploy this config (writebehind deploy --redis <url> --config <file>), or start the worker with the config the library was deployed with' },
        });
      }
      unnamed = deployed.writers.filter((w) => !config.writers.some((ours) => ours.name === w.name)).map((w) => w.name);
    }
    if (unnamed.length > 0) log.warn({ library, writers: unnamed }, `the deployed library captures writer(s) this worker's config does not name (${unnamed.join(', ')}): this worker does not write them to MySQL`);
  } finally {
    await client.close();
  }
}
