/**
 * The runtime's running mark (`__writebehind_runtime__:running`, runtime/unclean-stops.ts) is a key in redis-server
 * that other hands can make go away while the runtime runs: evicted under an `allkeys-*` policy, expired after a
 * client's EXPIRE, deleted straight on redis-server. A runtime that then crashed would leave no mark, the next one
 * would count no unclean stop, and the worker would never repair what the crash left uncaptured. The store guard
 * (library-host/store-guard.ts) sets the mark again, removes a TTL from it, and warns naming the key and the cause
 * (docs/runtime.md, the library store). Each test then kills the runtime (SIGKILL: no close step runs) and starts
 * a new one on the same server: it must count the unclean stop. A clean stop's own DEL of the mark stays done.
 */
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from './gears-support.js';
import { RUNTIME_LEASE_KEY, RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY } from '../../src/shared/keys.js';
import { deleteRepeatedly } from '../helpers/delete-repeatedly.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime } from '../helpers/runtime.js';
import { startRuntimeProcess, type RuntimeProcess } from '../helpers/runtime-process.js';

/** How long a lost mark may stay lost (ms): it is set again at the next turn of the runtime's lock. */
const BACK_WITHIN_MS = 3000;

interface LogLine {
  level: number;
  msg: string;
  key?: string;
  cause?: string;
}

let redis: RedisServer;
let runtime: RuntimeProcess | undefined;
let direct: ReturnType<typeof createClient>;

beforeEach(async () => {
  redis = await startRedisServer();
  direct = createClient({ url: redis.url });
  await direct.connect();
  runtime = await startRuntimeProcess(redis);
  expect(await direct.get(RUNTIME_RUNNING_KEY)).not.toBeNull();
}, 30_000);

afterEach(async () => {
  await runtime?.close();
  await direct?.quit().catch(() => undefined);
  await redis?.stop();
  runtime = undefined;
});

/** The warnings the runtime process logged that name the running mark as lost (or given a TTL). */
function markWarnings(): LogLine[] {
  return runtime!
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.key === RUNTIME_RUNNING_KEY && line.cause !== undefined);
}

/** The mark is there again, a string without a TTL. */
async function markIsBack(): Promise<void> {
  await eventually(async () => {
    expect(await direct.type(RUNTIME_RUNNING_KEY)).toBe('string');
    expect(await direct.pTTL(RUNTIME_RUNNING_KEY)).toBe(-1);
  }, BACK_WITHIN_MS);
}

/** The runtime crashes (SIGKILL); the one started next on the same server counts one unclean stop. */
async function crashIsCounted(): Promise<void> {
  await runtime!.kill();
  const next = await startRuntime(redis);
  try {
    expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBe('1');
  } finally {
    await next.close();
  }
}

describe('a running mark that goes away while the runtime runs is set again', () => {
  it('deleted straight on redis-server: back at once, warned as deleted, and a crash after it is counted', async () => {
    await direct.del(RUNTIME_RUNNING_KEY);
    await markIsBack();
    await eventually(() => expect(markWarnings().map((line) => line.cause)).toEqual(['deleted']));
    await crashIsCounted();
  });

  it('flushed straight on redis-server with the unclean-stop count (FLUSHALL: no keyspace event, the flush its tracking clients are told of): both back, the count at the runtime’s value, warned as flushed, and a crash after it is counted', async () => {
    // A count to lose: the runtime after a crash counts 1 (the lease of the killed one deleted, not waited for).
    await runtime!.kill();
    await direct.del(RUNTIME_LEASE_KEY);
    runtime = await startRuntimeProcess(redis);
    expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBe('1');
    await direct.flushAll();
    await markIsBack();
    await eventually(async () => expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBe('1'), BACK_WITHIN_MS);
    await eventually(() => expect(markWarnings().map((line) => line.cause)).toEqual(['flushed']));
    await runtime!.kill();
    const next = await startRuntime(redis);
    try {
      expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBe('2');
    } finally {
      await next.close();
    }
  });

  it('given a TTL by a client (EXPIRE 1, then PEXPIRE 1): the TTL is removed, or the expired mark set again, and a crash after it is counted', async () => {
    await direct.expire(RUNTIME_RUNNING_KEY, 1);
    // Removed well before it would expire.
    await eventually(async () => expect(await direct.pTTL(RUNTIME_RUNNING_KEY)).toBe(-1), 500);
    // 1 ms: expired before the runtime looks, most likely.
    await direct.pExpire(RUNTIME_RUNNING_KEY, 1);
    await markIsBack();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await markIsBack();
    await eventually(() => expect(markWarnings().map((line) => line.cause)).toHaveLength(2));
    const [first, second] = markWarnings().map((line) => line.cause);
    expect(first).toBe('ttl');
    expect(['ttl', 'expired']).toContain(second);
    await crashIsCounted();
  });

  it('evicted under maxmemory-policy allkeys-lru by a client’s filler: back, warned as evicted, and a crash after it is counted', async () => {
    const used = Number(/used_memory:(\d+)/.exec(await direct.info('memory'))![1]);
    await direct.configSet({ 'maxmemory-policy': 'allkeys-lru', maxmemory: String(used + 1_000_000) });
    const filler = 'x'.repeat(10_000);
    // allkeys-lru samples keys: fill until the mark (among the least recently used keys) has been evicted once.
    for (let i = 0; i < 5000 && !markWarnings().some((line) => line.cause === 'evicted'); i++) {
      await direct.set(`filler:${i}`, filler);
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(markWarnings().map((line) => line.cause)).toContain('evicted');
    await direct.configSet('maxmemory', '0');
    await markIsBack();
    await crashIsCounted();
  }, 60_000);

  it('deleted again as soon as it is back: set again after waits that double (at most at 0, 1, 3 s in 3.5 s), each loss warned, and a crash after it is counted', async () => {
    const deletions = await deleteRepeatedly(direct, RUNTIME_RUNNING_KEY, 3500);
    expect(deletions).toBeGreaterThanOrEqual(2);
    expect(deletions).toBeLessThanOrEqual(4);
    await eventually(async () => expect(await direct.type(RUNTIME_RUNNING_KEY)).toBe('string'), 6000);
    await eventually(() => expect(markWarnings().map((line) => line.cause)).toEqual(Array.from({ length: deletions }, () => 'deleted')));
    await crashIsCounted();
  }, 30_000);
});

describe('the runtime’s own DEL of its mark at a clean stop', () => {
  it('is not undone: the mark stays gone after the stop, and the next runtime counts nothing', async () => {
    // In-process runtimes, whose close runs while the store guard is subscribed; the process's mark goes with it.
    await runtime!.kill();
    runtime = undefined;
    await direct.del([RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY]);
    for (let i = 0; i < 5; i++) {
      const inProcess = await startRuntime(redis);
      await inProcess.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await direct.exists(RUNTIME_RUNNING_KEY)).toBe(0);
    }
    const next = await startRuntime(redis);
    await next.close();
    expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBeNull();
  });
});
