/**
 * The runtime closes when its keyspace subscription is gone (redis-server dropped it, an operator's CLIENT KILL):
 * triggers can no longer fire. A write whose events were in flight then was never captured, so that close is not
 * a clean stop: the runtime leaves its running mark, the next one counts an unclean stop, and the worker repairs
 * (docs/runtime.md, a runtime crash between a write and its capture).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { Runtime } from '../../src/runtime/index.js';
import { RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY } from '../../src/shared/keys.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';

let server: RedisServer;
let direct: ReturnType<typeof createClient>;

beforeAll(async () => {
  server = await startRedisServer();
  direct = createClient({ url: server.url });
  await direct.connect();
});

afterAll(async () => {
  await direct?.quit();
  await server?.stop();
});

/** Whether something still accepts connections on the runtime's port. */
async function listening(url: string): Promise<boolean> {
  const probe = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 1_000 } });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.quit();
    return true;
  } catch {
    return false;
  }
}

describe('a runtime whose keyspace subscription is lost', () => {
  it('closes and leaves its running mark, so the next runtime counts an unclean stop', { timeout: 30_000 }, async () => {
    const runtime = await Runtime.start({ redisUrl: server.url, port: 0 });
    const errors: unknown[] = [];
    runtime.on('error', (error) => errors.push(error));
    expect(await direct.get(RUNTIME_RUNNING_KEY)).not.toBeNull();

    const subscription = (await direct.clientList()).find((client) => client.name === 'writebehind-runtime-keyevents');
    expect(subscription).toBeDefined();
    await direct.sendCommand(['CLIENT', 'KILL', 'ID', String(subscription!.id)]);
    expect(await until(() => listening(runtime.url), (up) => !up, 10_000)).toBe(false);
    await runtime.close(); // the close the loss started: every step, the mark's included, has run once this resolves
    expect(errors).not.toHaveLength(0);

    expect(await direct.get(RUNTIME_RUNNING_KEY)).not.toBeNull();
    const next = await Runtime.start({ redisUrl: server.url, port: 0 });
    try {
      expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBe('1');
    } finally {
      await next.close();
    }
    // Its clean stop counts nothing more.
    expect(await direct.get(RUNTIME_RUNNING_KEY)).toBeNull();
  });
});
