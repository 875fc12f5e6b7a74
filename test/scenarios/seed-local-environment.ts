/**
 * The seed scenarios' local environment: a redis-server of the file's own, the runtime in front of it, the
 * library deployed, a MariaDB database with the example tables, and the built `writebehind worker` CLI as a
 * child process — the same shape as the Redis Stack environment, with the runtime in place of the module.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { createTestDatabase } from '../helpers/mysql.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { startRuntime } from '../helpers/runtime.js';
import { SEED_CONFIG, SEED_TABLES, type StartedSeedEnvironment } from './seed-scenarios.js';

export async function startLocalSeedEnvironment(): Promise<StartedSeedEnvironment> {
  const server = await startRedisServer();
  const runtime = await startRuntime(server);
  await deployLibrary({ redisUrl: runtime.url, config: SEED_CONFIG });
  const db = await createTestDatabase('seed');
  for (const ddl of SEED_TABLES) await db.query(ddl);
  const dir = mkdtempSync(join(tmpdir(), 'wb-seed-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(SEED_CONFIG));
  const worker = startCliProcess(['worker', '--redis', runtime.url, '--mysql', db.url, '--config', configFile]);
  const clients: TestClient[] = [];
  const client = await connectTestClient(runtime.url, clients);
  return {
    client,
    newClient: () => connectTestClient(runtime.url, clients),
    rows<T>(sql: string, params: unknown[]) {
      return db.query<T[]>(sql, params);
    },
    async stop() {
      await worker.stop();
      for (const c of clients) await c.close().catch(() => undefined);
      await runtime.close();
      await server.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
