/**
 * The public API of redis-writebehind, export by export. Everything else is internal and may change.
 *
 * @example Run the local runtime, deploy the library and a worker in one process
 * ```ts
 * import { Runtime, deployLibrary, startWorkerService, loadConfigFile, createLogger } from 'redis-writebehind';
 * const config = await loadConfigFile('config/example.json');
 * const runtime = await Runtime.start({ redisUrl: 'redis://127.0.0.1:6379', port: 6380 });
 * await deployLibrary({ redisUrl: runtime.url, config });
 * const worker = await startWorkerService({ redisUrl: runtime.url, mysqlUrl: 'mysql://root@127.0.0.1:3306/test', config, log: createLogger({ name: 'worker' }) });
 * ```
 */
export { Runtime } from './runtime/index.js';
export type { RuntimeOptions } from './runtime/index.js';
export { Worker } from './worker/worker.js';
export type { WorkerOptions } from './worker/worker-options.js';
export { startWorkerService } from './worker/worker-service.js';
export type { WorkerService, WorkerServiceOptions } from './worker/worker-service.js';
export { MysqlBatchWriter } from './worker/mysql/mysql-batch-writer.js';
export type { MysqlBatchWriterOptions } from './worker/mysql/mysql-batch-writer.js';
export type { BatchWriter } from './worker/batch-writer.js';
export { createMysqlPool } from './worker/mysql/mysql-pool.js';
export { RedisStreamClient } from './worker/redis/redis-stream-client.js';
export { WorkerMetrics } from './worker/worker-metrics.js';
export { deployLibrary, fetchDeployedLibrary } from './deploy/deploy.js';
export { loadConfigFile } from './shared/config-file.js';
export { parseConfig, configSchema } from './shared/config.js';
export type { WriteBehindConfig, WriterConfig } from './shared/config.js';
export { writerKeys, ackStreamKey } from './shared/keys.js';
export { WriteBehindError, ConfigError, LibraryLoadError, RedisCommandError, RedisConnectionError, DeployError } from './shared/errors.js';
export { MysqlWriteError } from './worker/mysql/mysql-write-error.js';
export { VERSION } from './shared/version.js';
export { createLogger } from './shared/log.js';
