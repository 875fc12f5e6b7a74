/**
 * `node dist/bench/support/worker-entry.js --redis <url> --mysql <url> --config <file> [--consumer <name>]
 * [--claim-min-idle-ms <ms>]`: the Worker in a process of its own, assembled the way its documentation shows
 * (MysqlBatchWriter over a pool, RedisStreamClient connections). A bench-side entry rather than the CLI, so
 * the campaign can shorten the reclaim delay; SIGTERM finishes the batch in flight and exits 0.
 */
import { Command } from 'commander';
import { loadConfigFile } from '../../src/shared/config-file.js';
import { createLogger } from '../../src/shared/log.js';
import { MysqlBatchWriter } from '../../src/worker/mysql-batch-writer.js';
import { createMysqlPool } from '../../src/worker/mysql-pool.js';
import { RedisStreamClient } from '../../src/worker/redis-stream-client.js';
import { Worker } from '../../src/worker/worker.js';

const options = new Command('worker-entry')
  .requiredOption('--redis <url>', 'Redis (the runtime) the library runs in')
  .requiredOption('--mysql <url>', 'target database')
  .requiredOption('--config <file>', 'write-behind config file')
  .option('--consumer <name>', 'consumer name in the workers group')
  .option('--claim-min-idle-ms <ms>', 'reclaim batches another consumer held this long')
  .parse(process.argv)
  .opts<{ redis: string; mysql: string; config: string; consumer?: string; claimMinIdleMs?: string }>();

const log = createLogger({ name: 'bench-worker', level: process.env['LOG_LEVEL'] ?? 'warn' });
const config = await loadConfigFile(options.config);
const pool = createMysqlPool({ url: options.mysql });
const batchWriter = new MysqlBatchWriter({ pool, config, log });
await batchWriter.prepare();
const worker = new Worker({
  config,
  batchWriter,
  log,
  connectRedis: () => RedisStreamClient.connect(options.redis, (error) => log.debug({ err: error }, 'redis connection error')),
  ...(options.consumer === undefined ? {} : { consumer: options.consumer }),
  ...(options.claimMinIdleMs === undefined ? {} : { claimMinIdleMs: Number(options.claimMinIdleMs) }),
});
worker.on('error', (error: unknown) => log.warn({ err: error }, 'worker error'));
await worker.start();
const stop = () =>
  void worker
    .close()
    .then(() => batchWriter.close())
    .finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
