/**
 * `writebehind worker [--redis URL] [--mysql URL] [--config FILE] [--metrics-port N] [--metrics-host H] [--consumer NAME] [--group-records N] [--wait-replicas N] [--wait-replicas-timeout MS]`:
 * flushes the batches the library cuts to MySQL until SIGTERM/SIGINT, then finishes the batch in flight and
 * exits 0 (see preflights/shutdown-signal.ts for a stop that cannot wait). The URLs may carry passwords: they
 * are never logged nor written to Redis.
 * Runs ../actions/worker.ts.
 */
import { Command } from 'commander';
import * as z from 'zod';
import { DEFAULT_CONFIG_PATH } from '../../shared/config-file.js';
import { DEFAULT_METRICS_HOST } from '../../worker/metrics-server.js';
import { closeWithin, shutdownSignal } from '../preflights/shutdown-signal.js';
import { DEFAULT_MYSQL_URL, DEFAULT_REDIS_URL, mysqlUrlSchema, redisUrlSchema } from './url-options.js';

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
    const { runWorker } = await import('../actions/worker.js');
    const service = await runWorker(options);
    const signal = await shutdownSignal();
    const { log } = service.worker.options;
    log.info({ signal }, 'stopping: finishing the batch in flight');
    await closeWithin(() => service.close(), log);
  });
