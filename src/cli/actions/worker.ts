/** What `writebehind worker` runs (../commands/worker.ts defines it). */
import { loadConfigFile } from '../../shared/config-file.js';
import { createLogger } from '../../shared/log.js';
import { pinMmapThreshold } from '../../worker/mmap-threshold.js';
import { startWorkerService, type WorkerService } from '../../worker/worker-service.js';
import { parseOptions } from '../preflights/parse-options.js';
import { workerOptionsSchema, type WorkerCommandOptions } from '../commands/worker.js';

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
