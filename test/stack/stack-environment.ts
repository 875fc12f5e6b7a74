/**
 * Redis Stack 7.2 (RedisGears 2.0.23) and MySQL 8.0 in containers, the library deployed into the real module,
 * and the worker (the built CLI, as a child process) writing to the container's MySQL.
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { createClient, type RedisClientType } from 'redis';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { parseConfig, type WriteBehindConfig } from '../../src/shared/config.js';
import { startCliProcess, type CliProcess } from '../../bench/support/cli-process.js';

export const REDIS_STACK_IMAGE = 'redis/redis-stack-server:7.2.0-v13';
export const MYSQL_IMAGE = 'mysql:8.0';
const MYSQL_PASSWORD = 'stack-suite';
const MYSQL_DATABASE = 'writebehind';

/** The seed's example: person: and car: writers, with the exactly-once table. */
export const STACK_CONFIG: WriteBehindConfig = (() => {
  const parsed = parseConfig({
    name: 'WriteBehind',
    writers: [
      { name: 'PersonsWriteBehind', keysPrefix: 'person', table: 'persons', primaryKey: 'person_id', mappings: { first_name: 'first', last_name: 'last', age: 'age' } },
      { name: 'CarsWriteBehind', keysPrefix: 'car', table: 'cars', primaryKey: 'car_id', mappings: { id: 'id', color: 'color' } },
    ],
    exactlyOnceTable: 'wb_exactly_once',
    batch: { size: 100, maxDelayMs: 50 },
  });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.config;
})();

const TABLES = [
  'CREATE TABLE persons (person_id VARCHAR(64) PRIMARY KEY, first VARCHAR(64), last VARCHAR(64), age INT)',
  'CREATE TABLE cars (car_id VARCHAR(64) PRIMARY KEY, id VARCHAR(64), color VARCHAR(32))',
];

export interface StackEnvironment {
  readonly redis: RedisClientType;
  readonly mysql: mysql.Connection;
  /** Rows of `table` whose key column equals `id`. */
  row(table: 'persons' | 'cars', id: string): Promise<mysql.RowDataPacket | undefined>;
  stop(): Promise<void>;
}

export async function startStackEnvironment(): Promise<StackEnvironment> {
  const [redisContainer, mysqlContainer] = await Promise.all([
    new GenericContainer(REDIS_STACK_IMAGE).withExposedPorts(6379).withWaitStrategy(Wait.forLogMessage('Ready to accept connections')).start(),
    new GenericContainer(MYSQL_IMAGE)
      .withEnvironment({ MYSQL_ROOT_PASSWORD: MYSQL_PASSWORD, MYSQL_DATABASE })
      .withExposedPorts(3306)
      // The image starts a temporary server (port 0) first; the real one logs its port.
      .withWaitStrategy(Wait.forLogMessage(/ready for connections.*port: 3306/))
      .start(),
  ]);
  const started: StartedTestContainer[] = [redisContainer, mysqlContainer];
  const redisUrl = `redis://${redisContainer.getHost()}:${redisContainer.getMappedPort(6379)}`;
  const mysqlUrl = `mysql://root:${MYSQL_PASSWORD}@${mysqlContainer.getHost()}:${mysqlContainer.getMappedPort(3306)}/${MYSQL_DATABASE}`;

  const db = await mysql.createConnection({ uri: mysqlUrl });
  for (const ddl of TABLES) await db.query(ddl);
  await deployLibrary({ redisUrl, config: STACK_CONFIG });

  const dir = mkdtempSync(join(tmpdir(), 'wb-stack-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(STACK_CONFIG));
  const worker: CliProcess = startCliProcess(['worker', '--redis', redisUrl, '--mysql', mysqlUrl, '--config', configFile]);

  const redis = createClient({ url: redisUrl }) as RedisClientType;
  await redis.connect();
  return {
    redis,
    mysql: db,
    async row(table, id) {
      const key = table === 'persons' ? 'person_id' : 'car_id';
      const [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT * FROM ${table} WHERE ${key} = ?`, [id]);
      return rows[0];
    },
    async stop() {
      await worker.stop();
      await redis.quit();
      await db.end();
      await Promise.all(started.map((c) => c.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns true (the worker writes asynchronously); fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
