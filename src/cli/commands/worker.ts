/**
 * `writebehind worker [--redis URL] [--mysql URL] [--config FILE] [--metrics-port N] [--metrics-host H] [--consumer NAME] [--group-records N] [--wait-replicas N] [--wait-replicas-timeout MS]`:
 * flushes the batches the library cuts to MySQL until SIGTERM/SIGINT, then finishes the batch in flight and
 * exits 0 (see preflights/shutdown-signal.ts for a stop that cannot wait); after a redeploy under it that
 * changed a writer's capture, it closes the same way and exits 2 naming the field (docs/worker.md). The URLs
 * may carry passwords: they are never logged nor written to Redis.
 * Runs ../actions/worker.ts.
 */
import { Command } from 'commander';
import { WriteBehindError } from '../../shared/errors.js';
import { DEFAULT_METRICS_HOST } from '../../shared/metrics-server.js';
import type { WorkerCommandOptions } from '../actions/worker.js';
import { closeWithin, shutdownSignal } from '../preflights/shutdown-signal.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_MYSQL_URL, DEFAULT_REDIS_URL } from './defaults.js';

export const workerCommand = new Command('worker')
  .description('flush captured changes to MySQL (until SIGTERM/SIGINT, finishing the batch in flight; a second signal stops at once)')
  .option('--redis <url>', `Redis running the library: the runtime or Redis Stack (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--mysql <url>', `MySQL URL (default: $MYSQL_URL or ${DEFAULT_MYSQL_URL})`)
  .option('--config <file>', 'write-behind config file: its writers must be the deployed library\'s, as deployed (else exit 2, naming the field)', DEFAULT_CONFIG_PATH)
  .option('--metrics-port <port>', 'serve Prometheus metrics on GET /metrics at this port')
  .option('--metrics-host <host>', 'interface of /metrics (0.0.0.0: every interface)', DEFAULT_METRICS_HOST)
  .option('--consumer <name>', 'consumer name in the workers group; keep it across restarts, so a restarted worker replays the batches it held at once instead of after --claim-min-idle-ms (default: <hostname>-<pid>)')
  .option('--claim-min-idle-ms <ms>', "reclaim batches another worker held idle this long (default: 30000)")
  .option('--group-records <n>', 'most capture records one MySQL transaction covers when consecutive batches wait (default: 5000; 1: one transaction per batch)')
  .option('--wait-replicas <n>', "write a batch to MySQL only once n replicas of its shard hold it (WAIT), so a failover cannot lose from Redis a row MySQL has (default: 0, no wait)")
  .option('--wait-replicas-timeout <ms>', 'timeout of each of those WAITs; too few replicas is retried with backoff (default: 1000)')
  .action(async (options: WorkerCommandOptions) => {
    const stopRequested = shutdownSignal(); // before the start: see preflights/shutdown-signal.ts
    const starting = new AbortController();
    void stopRequested.then(() => starting.abort());
    const { runWorker } = await import('../actions/worker.js');
    let service;
    try {
      service = await runWorker(options, starting.signal);
    } catch (error) {
      // Stopped in a start-up wait (a deploy under way on a cluster): nothing was written, a clean stop.
      if (starting.signal.aborted && error instanceof WriteBehindError && error.code === 'INTERRUPTED') {
        process.stderr.write(`${error.message}\n`);
        return;
      }
      throw error;
    }
    const stop = await Promise.race([stopRequested.then((signal) => ({ signal })), service.configMismatch.then((mismatch) => ({ mismatch }))]);
    const { log } = service.worker.options;
    if ('mismatch' in stop) {
      // A redeploy under it changed a writer's capture: stop the process (exit 2, as at start-up), so that a
      // supervisor restarts it with the config file as it is now, or shows a worker that cannot start.
      log.info('stopping: the deployed config no longer matches; finishing the other writers\' batches in flight');
      await closeWithin(() => service.close(), log);
      throw stop.mismatch;
    }
    log.info({ signal: stop.signal }, 'stopping: finishing the batch in flight');
    await closeWithin(() => service.close(), log);
  });
