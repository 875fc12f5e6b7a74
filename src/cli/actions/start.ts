/** What `writebehind start` runs (../commands/start.ts defines it). */
import { hostname } from 'node:os';
import * as z from 'zod';
import { deployLibrary } from '../../deploy/deploy.js';
import { Runtime } from '../../runtime/index.js';
import { loadConfigFile } from '../../shared/config-file.js';
import { createLogger } from '../../shared/log.js';
import { databaseOfUrl } from '../../worker/mysql/mysql-pool.js';
import { redactUrl } from '../../shared/redact-url.js';
import { ConfigError } from '../../shared/errors.js';
import { pinMmapThreshold } from '../../worker/mmap-threshold.js';
import { startWorkerService } from '../../worker/worker-service.js';
import { createExampleTables } from '../preflights/example-tables.js';
import { parseOptions } from '../preflights/parse-options.js';
import { checkBackingRedis } from '../preflights/backing-redis.js';
import { DEFAULT_METRICS_HOST } from '../../shared/metrics-server.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_MYSQL_URL } from '../commands/defaults.js';
import { DEFAULT_BACKING_REDIS_URL } from '../commands/start.js';
import { runtimeOptionsSchema } from './runtime.js';
import { mysqlUrlSchema, redisUrlSchema } from './url-options.js';

export const startOptionsSchema = z.object({
  /** The backing redis-server (not the runtime). */
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_BACKING_REDIS_URL),
  /** Port the runtime listens on; applications and redis-cli connect there. */
  port: z.coerce.number().int().min(0).max(65_535).default(6380),
  mysql: mysqlUrlSchema.default(() => process.env['MYSQL_URL'] ?? DEFAULT_MYSQL_URL),
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
  /** RedisGears' `lock-redis-timeout` of the runtime (same range as `writebehind runtime --lock-timeout`). */
  lockTimeout: runtimeOptionsSchema.shape.lockTimeout,
  /** RedisGears' `v8-maxmemory` of the runtime's isolates, in MB. */
  memoryLimit: runtimeOptionsSchema.shape.memoryLimit,
  metricsPort: z.coerce.number().int().min(0).max(65_535).optional(),
  /** Interface /metrics listens on. */
  metricsHost: z.string().min(1).default(DEFAULT_METRICS_HOST),
});

export type StartOptions = z.input<typeof startOptionsSchema>;

export interface StartedPipeline {
  readonly runtimeUrl: string;
  readonly runtimePort: number;
  close(): Promise<void>;
}

export async function runStart(options: StartOptions, print: (text: string) => void = (text) => process.stdout.write(`${text}\n`)): Promise<StartedPipeline> {
  const parsed = parseOptions('start', startOptionsSchema, options);
  const config = await loadConfigFile(parsed.config);
  const log = createLogger({ name: 'start' });
  const backing = await checkBackingRedis(parsed.redis, '--redis / REDIS_URL');
  if (backing.clusterNode) {
    throw new ConfigError(
      `${redactUrl(parsed.redis)} is a Redis Cluster node: start runs one runtime and one worker on one Redis. On a cluster, run one \`writebehind runtime --redis <node>\` per primary, each node announcing its runtime's port (cluster-announce-port), then \`writebehind deploy\` through any one of them (docs/scale-out.md); the worker does not run on a cluster yet`,
    );
  }
  const runtime = await Runtime.start({
    redisUrl: parsed.redis,
    port: parsed.port,
    lockTimeoutMs: parsed.lockTimeout,
    memoryLimitMb: parsed.memoryLimit,
    // Its lock's metrics are served with the worker's, on --metrics-port.
    ...(parsed.metricsPort === undefined ? {} : { metrics: {} }),
    // Named as the standalone commands name theirs: the runtime's parts add their own `component`.
    log: createLogger({ name: 'runtime' }),
  });
  runtime.on('error', () => undefined); // the runtime logs its failures itself
  try {
    // Process-wide, so pinned here and not by the worker service (which tests also run in-process).
    const pinned = pinMmapThreshold();
    log.debug({ pinned }, 'malloc mmap threshold pinned at 128 KiB');
    const deployed = await deployLibrary({ redisUrl: runtime.url, config });
    const created = await createExampleTables(parsed.mysql, config);
    const service = await startWorkerService({
      redisUrl: runtime.url,
      mysqlUrl: parsed.mysql,
      config,
      log: createLogger({ name: 'worker' }),
      // Stable across restarts, so a restarted `start` replays its own unfinished batches at once.
      consumer: `start-${hostname()}`,
      ...(parsed.metricsPort === undefined ? {} : { metricsPort: parsed.metricsPort, metricsHost: parsed.metricsHost, alsoServe: runtime.metricsRegistry ? [runtime.metricsRegistry] : [] }),
    });
    const database = databaseOfUrl(parsed.mysql) ?? '(default database)';
    const first = config.writers[0]!;
    const fields = Object.keys(first.mappings);
    print([
      `write-behind is running: library ${deployed.name} ${deployed.version}, RedisGears runtime on ${runtime.url} (over ${redactUrl(parsed.redis)}), MySQL ${redactUrl(parsed.mysql)}`,
      ...(created.length > 0 ? [`created table(s) ${created.join(', ')} in ${database}`] : []),
      '',
      'Try it:',
      first.keysPrefix === 'person' && fields.join(',') === 'first_name,last_name,age'
        ? `  redis-cli -p ${runtime.port} HSET person:1 first_name James last_name Bond age 42`
        : `  redis-cli -p ${runtime.port} HSET ${first.keysPrefix}:1 ${fields.map((f) => `${f} value`).join(' ')}`,
      `  mysql -e 'SELECT * FROM ${database}.${first.table}'`,
      '',
      ...config.writers.map((w) => `  ${w.keysPrefix}:<id> hashes → ${database}.${w.table}`),
      '',
      `Status: writebehind status --redis ${runtime.url}.  Ctrl-C stops everything.`,
    ].join('\n'));
    let closing: Promise<void> | undefined;
    return {
      runtimeUrl: runtime.url,
      runtimePort: runtime.port,
      close: () => (closing ??= (async () => {
        try {
          await service.close();
        } finally {
          await runtime.close();
        }
      })()),
    };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
