/**
 * A runtime started on a port another runtime over the same redis-server holds (`npm start` run twice, an
 * overlapping restart) must fail without touching that runtime's running mark: before, it took the mark (and
 * counted a false unclean stop, which makes every worker repair every writer), then removed it as it failed, so
 * a real crash of the runtime still running went uncounted and the writes it left uncaptured were never repaired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/index.js';
import { RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY } from '../../src/shared/keys.js';
import { silentLogger } from '../../src/shared/log.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let direct: TestClient;
let running: Runtime;
const clients: Array<{ close(): Promise<unknown> }> = [];

beforeAll(async () => {
  server = await startRedisServer();
  direct = await connectTestClient(server.url, clients);
  running = await Runtime.start({ redisUrl: server.url, port: 0, log: silentLogger });
});

afterAll(async () => {
  await running?.close();
  for (const client of clients) await client.close();
  await server?.stop();
});

describe('a runtime started on a port already taken', () => {
  it("fails and leaves the running runtime's mark and the unclean-stop count as they were", async () => {
    const mark = await direct.get(RUNTIME_RUNNING_KEY);
    expect(mark).not.toBeNull();
    const stops = await direct.get(RUNTIME_UNCLEAN_STOPS_KEY);
    await expect(Runtime.start({ redisUrl: server.url, port: running.port, log: silentLogger })).rejects.toThrow(/EADDRINUSE/);
    expect(await direct.get(RUNTIME_RUNNING_KEY)).toBe(mark);
    expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBe(stops);
  });
});
