/**
 * The seed scenarios' Redis Stack environment: Redis Stack 7.2 (RedisGears 2.0.23) and MySQL 8.0 in
 * containers, the library deployed into the real module, and the worker (the built CLI, as a child process)
 * writing to the container's MySQL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';
import { SEED_CONFIG, SEED_TABLES, type StartedSeedEnvironment } from '../scenarios/seed-scenarios.js';

export const REDIS_STACK_IMAGE = 'redis/redis-stack-server:7.2.0-v13';
export const MYSQL_IMAGE = 'mysql:8.0';
const MYSQL_PASSWORD = 'stack-suite';
const MYSQL_DATABASE = 'writebehind';

export async function startStackEnvironment(): Promise<StartedSeedEnvironment> {
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
  for (const ddl of SEED_TABLES) await db.query(ddl);
  await deployLibrary({ redisUrl, config: SEED_CONFIG });

  const dir = mkdtempSync(join(tmpdir(), 'wb-stack-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(SEED_CONFIG));
  const worker = startCliProcess(['worker', '--redis', redisUrl, '--mysql', mysqlUrl, '--config', configFile]);
  const clients: TestClient[] = [];
  const client = await connectTestClient(redisUrl, clients);
  return {
    client,
    newClient: () => connectTestClient(redisUrl, clients),
    async rows<T>(sql: string, params: unknown[]) {
      const [rows] = await db.query(sql, params);
      return rows as T[];
    },
    async stop() {
      await worker.stop();
      for (const c of clients) await c.close().catch(() => undefined);
      await db.end();
      await Promise.all(started.map((c) => c.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
