/** What `writebehind worker` runs (../commands/worker.ts defines it). */
import * as z from 'zod';
import { loadConfigFile } from '../../shared/config-file.js';
import { createLogger } from '../../shared/log.js';
import { pinMmapThreshold } from '../../worker/mmap-threshold.js';
import { startWorkerService, type WorkerService } from '../../worker/worker-service.js';
import { parseOptions } from '../preflights/parse-options.js';
import { DEFAULT_METRICS_HOST } from '../../shared/metrics-server.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_MYSQL_URL, DEFAULT_REDIS_URL } from '../commands/defaults.js';
import { mysqlUrlSchema, redisUrlSchema } from './url-options.js';

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

/**
 * Starts the worker service; the CLI action waits for a signal and closes it. `signal` is a stop asked for during
 * the start: a start-up wait that can last ends with an INTERRUPTED error (WorkerServiceOptions.signal).
 */
export async function runWorker(options: WorkerCommandOptions, signal?: AbortSignal): Promise<WorkerService> {
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
    ...(signal === undefined ? {} : { signal }),
    ...(parsed.metricsPort === undefined ? {} : { metricsPort: parsed.metricsPort, metricsHost: parsed.metricsHost }),
    ...(parsed.consumer === undefined ? {} : { consumer: parsed.consumer }),
    ...(parsed.claimMinIdleMs === undefined ? {} : { claimMinIdleMs: parsed.claimMinIdleMs }),
    ...(parsed.groupRecords === undefined ? {} : { groupRecords: parsed.groupRecords }),
    ...(parsed.waitReplicas === undefined ? {} : { waitReplicas: parsed.waitReplicas }),
    ...(parsed.waitReplicasTimeout === undefined ? {} : { waitReplicasTimeoutMs: parsed.waitReplicasTimeout }),
  });
}
