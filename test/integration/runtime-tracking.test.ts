/**
 * Client-side caching through the runtime: a client with CLIENT TRACKING is told of the keys clients change, as
 * redis-server tells it, and of none of the runtime's own (shared/keys.ts, `__writebehind_runtime__:…`): the
 * lease's PEXPIRE every second would otherwise reach every BCAST tracker whose prefixes cover it. INFO's
 * `tracking_clients` counts the clients' tracking connections, not the runtime's keyspace subscription (its
 * tracking hears of flushes).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LEASE_REFRESH_MS } from '../../src/runtime/runtime-lease.js';
import { isRuntimeKey } from '../../src/shared/keys.js';
import { textOf, type RespValue } from '../../src/runtime/resp/types.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';

/** Long enough for two refreshes of the lease. */
const LISTEN_MS = 2.5 * LEASE_REFRESH_MS;

let redis: RedisServer;
let plain: RedisServer;
let runtime: StartedRuntime;
const opened: RespSocket[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  plain = await startRedisServer();
  runtime = await startRuntime(redis);
}, 30_000);

afterAll(async () => {
  for (const socket of opened.splice(0)) socket.close();
  await runtime?.close();
  await redis?.stop();
  await plain?.stop();
});

beforeEach(() => {
  for (const socket of opened.splice(0)) socket.close();
});

async function open(port: number): Promise<RespSocket> {
  const socket = await RespSocket.open(port);
  opened.push(socket);
  return socket;
}

async function call(socket: RespSocket, ...args: string[]): Promise<RespValue> {
  socket.send(args);
  return (await socket.read(1))[0]!.value;
}

/** The keys an invalidation names: a RESP3 `invalidate` push, or a RESP2 `message __redis__:invalidate`; null for a flush. */
function invalidated(value: RespValue): string[] | null | undefined {
  if (value.type !== 'push' && value.type !== 'array') return undefined;
  const parts = value.value.map((part) => (part.type === 'blob' ? textOf(part) : part));
  const keys = parts[0] === 'invalidate' ? value.value[1] : parts[0] === 'message' && parts[1] === '__redis__:invalidate' ? value.value[2] : undefined;
  if (keys === undefined) return undefined;
  if (keys.type === 'null') return null;
  return keys.type === 'array' ? keys.value.map((key) => textOf(key) ?? '') : undefined;
}

/**
 * Waits LISTEN_MS (the lease refreshed meanwhile), has another client SET `key`, and returns every key the
 * tracker was told of up to that key's invalidation, which it must get (the listening is not blind).
 */
async function keysToldOf(tracker: RespSocket, key: string): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, LISTEN_MS));
  const writer = await open(runtime.port);
  expect(await call(writer, 'SET', key, '1')).toEqual({ type: 'simple', value: 'OK' });
  const told: string[] = [];
  while (!told.includes(key)) {
    const [message] = await tracker.read(1, 5000);
    const keys = invalidated(message!.value);
    if (keys === undefined) throw new Error(`not an invalidation: ${message!.raw.toString('latin1')}`);
    told.push(...(keys ?? []));
  }
  return told;
}

describe('CLIENT TRACKING through the runtime', () => {
  it('a RESP3 client tracking in BCAST mode is told of the keys clients write, and of none of the runtime’s', async () => {
    const tracker = await open(runtime.port);
    tracker.send(['HELLO', '3']);
    await tracker.read(1);
    expect(await call(tracker, 'CLIENT', 'TRACKING', 'on', 'BCAST')).toEqual({ type: 'simple', value: 'OK' });
    const told = await keysToldOf(tracker, 'tracked:resp3');
    expect(told.filter((key) => isRuntimeKey(key))).toEqual([]);
    expect(told).toContain('tracked:resp3');
  });

  it('a RESP2 client tracking in BCAST mode with REDIRECT: its subscriber of __redis__:invalidate is told of none of the runtime’s keys', async () => {
    const subscriber = await open(runtime.port);
    const id = await call(subscriber, 'CLIENT', 'ID');
    subscriber.send(['SUBSCRIBE', '__redis__:invalidate']);
    await subscriber.read(1);
    const tracker = await open(runtime.port);
    expect(await call(tracker, 'CLIENT', 'TRACKING', 'on', 'BCAST', 'REDIRECT', String((id as { value: bigint }).value))).toEqual({ type: 'simple', value: 'OK' });
    const told = await keysToldOf(subscriber, 'tracked:resp2');
    expect(told.filter((key) => isRuntimeKey(key))).toEqual([]);
    expect(told).toContain('tracked:resp2');
  });

  it('BCAST with a prefix the runtime’s keys start with, NOLOOP: told of a client’s key under it, not of the lease', async () => {
    const tracker = await open(runtime.port);
    tracker.send(['HELLO', '3']);
    await tracker.read(1);
    expect(await call(tracker, 'CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', '__', 'NOLOOP')).toEqual({ type: 'simple', value: 'OK' });
    const told = await keysToldOf(tracker, '__tracked:prefix');
    expect(told.filter((key) => isRuntimeKey(key))).toEqual([]);
    expect(told).toContain('__tracked:prefix');
  });

  it('a flush still reaches a tracking client (a null invalidation)', async () => {
    const tracker = await open(runtime.port);
    tracker.send(['HELLO', '3']);
    await tracker.read(1);
    expect(await call(tracker, 'CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'flushed:')).toEqual({ type: 'simple', value: 'OK' });
    const flusher = await open(runtime.port);
    expect(await call(flusher, 'FLUSHALL')).toEqual({ type: 'simple', value: 'OK' });
    const [message] = await tracker.read(1, 5000);
    expect(invalidated(message!.value)).toBeNull();
  });

  it('INFO clients’ tracking_clients counts the clients’ tracking connections, as on a redis-server of its own', async () => {
    /** tracking_clients after the Tcl suite's "Tracking info is correct" sequence (a redirected tracker, a BCAST one) on `port`. */
    async function trackingClients(port: number): Promise<number[]> {
      const subscriber = await open(port);
      const id = (await call(subscriber, 'CLIENT', 'ID')) as { value: bigint };
      const counts: number[] = [];
      const count = async (...sections: string[]) => {
        const info = textOf(await call(subscriber, 'INFO', ...sections)) ?? '';
        counts.push(Number(/\r\ntracking_clients:(\d+)\r\n/.exec(info)?.[1]));
      };
      await count('clients');
      const redirected = await open(port);
      await call(redirected, 'CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id.value));
      const bcast = await open(port);
      await call(bcast, 'CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'prefix:');
      await count('clients');
      await count();
      await count('everything');
      redirected.close();
      bcast.close();
      return counts;
    }
    const direct = await trackingClients(plain.port);
    expect(direct).toEqual([0, 2, 2, 2]);
    expect(await trackingClients(runtime.port)).toEqual(direct);
  });
});
