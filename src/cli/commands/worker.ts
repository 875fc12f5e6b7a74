/**
 * `writebehind worker [--redis URL] [--mysql URL] [--config FILE] [--metrics-port N] [--metrics-host H] [--consumer NAME] [--group-records N] [--wait-replicas N] [--wait-replicas-timeout MS]`:
 * flushes the batches the library cuts to MySQL until SIGTERM/SIGINT, then finishes the batch in flight and
 * exits 0 (see preflights/shutdown-signal.ts for a stop that cannot wait). The URLs may carry passwords: they
 * are never logged nor written to Redis.
 */
import { Command } from 'commander';
import * as z from 'zod';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../../shared/config-file.js';
import { createLogger } from '../../shared/log.js';
import { DEFAULT_METRICS_HOST } from '../../worker/metrics-server.js';
import { pinMmapThreshold } from '../../worker/mmap-threshold.js';
import { startWorkerService, type WorkerService } from '../../worker/worker-service.js';
import { parseOptions } from '../preflights/parse-options.js';
import { closeWithin, shutdownSignal } from '../preflights/shutdown-signal.js';
import { DEFAULT_REDIS_URL } from './deploy.js';

export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';

export const redisUrlSchema = z.string().refine((url) => /^rediss?:\/\/[^/]/.test(url) && isValidUrl(url), 'must be a redis:// or rediss:// URL (percent-encode / % @ : in the password)');
export const mysqlUrlSchema = z.string().refine((url) => /^mysql:\/\/[^/]/.test(url) && isValidUrl(url), 'must be a mysql:// URL (mysql://user:password@host:port/database; percent-encode / % @ : in the password)');

/** The URL parses, credentials included (a bare % in a password does not decode); the message never echoes it. */
function isValidUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
    return true;
  } catch {
    return false;
  }
}

export const workerOptionsSchema = z.object({
  /** The runtime or Redis Stack running the library (TFCALL must reach it). */
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
  mysql: mysqlUrlSchema.default(() => process.env['MYSQL_URL'] ?? DEFAULT_MYSQL_URL),
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
  /** Port of GET /metrics (Prometheus); none when absent. */
  metricsPort: z.coerce.number().int().min(0).max(65_535).optional(),
  /** Interface /metrics listens on: loopback unless opened on purpose (0.0.0.0: every interface). */
  metricsHost: z.string().min(1).default(DEFAULT_METRICS_HOST),
  /** Consumer name in the `workers` group; stable across restarts so a restarted worker replays its own batches. */
  consumer: z.string().regex(/^[A-Za-z0-9_.:@-]{1,100}$/, 'must be 1-100 of A-Z a-z 0-9 _ . : @ -').optional(),
  /** Batches another worker left idle this long are reclaimed (the dead worker's work moves on). */
  claimMinIdleMs: z.coerce.number().int().min(100).max(3_600_000).optional(),
  /** Most capture records one MySQL transaction covers when consecutive batches wait (1: a transaction per batch). */
  groupRecords: z.coerce.number().int().min(1).max(1_000_000).optional(),
  /** Replicas a batch must be on (WAIT on its shard) before it is written to MySQL; 0: none. */
  waitReplicas: z.coerce.number().int().min(0).max(100).optional(),
  /** Timeout of each of those WAITs. */
  waitReplicasTimeout: z.coerce.number().int().min(1).max(3_600_000).optional(),
});

export type WorkerCommandOptions = z.input<typeof workerOptionsSchema>;

/** Starts the worker service; the CLI action waits for a signal and closes it. */
export async function runWorker(options: WorkerCommandOptions): Promise<WorkerService> {
  const parsed = parseOptions('worker', workerOptionsSchema, options);
  const config = await loadConfigFile(parsed.config);
  const log = createLogger({ name: 'worker' });
  // Process-wide, so pinned here and not by the worker service (which tests also run in-process).
  const pinned = pinMmapThreshold();
  log.debug({ pinned }, 'malloc mmap threshold pinned at 128 KiB');
  return startWorkerService({
    redisUrl: parsed.redis,
    mysqlUrl: parsed.mysql,
    config,
    log,
    ...(parsed.metricsPort === undefined ? {} : { metricsPort: parsed.metricsPort, metricsHost: parsed.metricsHost }),
    ...(parsed.consumer === undefined ? {} : { consumer: parsed.consumer }),
    ...(parsed.claimMinIdleMs === undefined ? {} : { claimMinIdleMs: parsed.claimMinIdleMs }),
    ...(parsed.groupRecords === undefined ? {} : { groupRecords: parsed.groupRecords }),
    ...(parsed.waitReplicas === undefined ? {} : { waitReplicas: parsed.waitReplicas }),
    ...(parsed.waitReplicasTimeout === undefined ? {} : { waitReplicasTimeoutMs: parsed.waitReplicasTimeout }),
  });
}

export const workerCommand = new Command('worker')
  .description('flush captured changes to MySQL (until SIGTERM/SIGINT, finishing the batch in flight; a second signal stops at once)')
  .option('--redis <url>', `Redis running the library: the runtime or Redis Stack (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--mysql <url>', `MySQL URL (default: $MYSQL_URL or ${DEFAULT_MYSQL_URL})`)
  .option('--config <file>', 'write-behind config file', DEFAULT_CONFIG_PATH)
  .option('--metrics-port <port>', 'serve Prometheus metrics on GET /metrics at this port')
  .option('--metrics-host <host>', 'interface of /metrics (0.0.0.0: every interface)', DEFAULT_METRICS_HOST)
  .option('--consumer <name>', 'consumer name in the workers group (default: <hostname>-<pid>)')
  .option('--claim-min-idle-ms <ms>', "reclaim batches another worker held idle this long (default: 30000)")
  .option('--group-records <n>', 'most capture records one MySQL transaction covers when consecutive batches wait (default: 5000; 1: one transaction per batch)')
  .option('--wait-replicas <n>', "write a batch to MySQL only once n replicas of its shard hold it (WAIT), so a failover cannot lose from Redis a row MySQL has (default: 0, no wait)")
  .option('--wait-replicas-timeout <ms>', 'timeout of each of those WAITs; too few replicas is retried with backoff (default: 1000)')
  .action(async (options: WorkerCommandOptions) => {
    const service = await runWorker(options);
    const signal = await shutdownSignal();
    const { log } = service.worker.options;
    log.info({ signal }, 'stopping: finishing the batch in flight');
    await closeWithin(() => service.close(), log);
  });
