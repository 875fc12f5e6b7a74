/**
 * The lock timeout and library code's Redis calls. Library code runs in an isolated-vm isolate and reaches Redis
 * through a synchronous host callback (sandbox.ts: an ivm.Callback, called from inside the guest's timed
 * applySync), whose SyncRedis call blocks the main thread on the socket. Such a call is never cut short:
 *
 * - isolated-vm pauses a call's timeout while the thread runs another isolate (executor.cc: entering the host's
 *   isolate pauses the guest's CPU timer, and with it the timeout's timer, timer.cc), so the time spent in a
 *   Redis call does not count against the lock timeout and the timeout cannot fire during one;
 * - a timeout terminates the guest isolate only (TerminateExecution on it, served at its JavaScript's next
 *   interrupt check), never host code.
 *
 * So a terminated library has had each of its calls written whole and every reply read: the shared connection
 * stays in step, and the next calls, of that library and of others, get their own replies in their own database.
 *
 * A call is made slow by redis-server itself: `DEBUG SLEEP` on a connection of the test's own holds the server
 * while the library's call waits in its queue, several times the lock timeout.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, lib, load, useGearsEnv, type Client } from './gears-support.js';

/** The lock timeout: RedisGears' minimum. The grid (sandbox.ts) ends it 100–150 ms into a call. */
const LOCK_TIMEOUT_MS = 100;
/** How long redis-server sleeps under a library's call. */
const SLEEP_MS = 600;
const TERMINATED = 'Err Execution was terminated due to OOM or timeout';

const env = useGearsEnv({ lockTimeoutMs: LOCK_TIMEOUT_MS, redisArgs: ['--enable-debug-command', 'local'] });

let direct: Client;
let sleeper: Client;
let db5: Client;

beforeAll(async () => {
  direct = createClient({ url: env.redis.url });
  sleeper = createClient({ url: env.redis.url });
  db5 = createClient({ url: env.runtime.url, database: 5 });
  await Promise.all([direct.connect(), sleeper.connect(), db5.connect()]);
});

afterAll(() => {
  for (const client of [direct, sleeper, db5]) client?.destroy();
});

/** Library code that runs past the lock timeout after its call, then marks that it ran on (which it must not). */
const RUN_ON = `const end = Date.now() + ${4 * LOCK_TIMEOUT_MS}; while (Date.now() < end); client.call('SET', 'ran-on', '1');`;

/**
 * Library code that runs in loops (where V8 serves a termination) for a fifth of the lock timeout: a library
 * whose call had counted against the timeout would be stopped here.
 */
const UNDER_TIMEOUT = `const soon = Date.now() + ${LOCK_TIMEOUT_MS / 5}; while (Date.now() < soon);`;

/**
 * `slow`: `get` waits in its call and returns; `set` and `pop` wait in their call and then exceed the lock
 * timeout. `set` is one command; `pop`, a blocking one, goes as a MULTI/EXEC batch.
 */
const SLOW = lib(
  'slow',
  `redis.registerFunction('get', (client, key) => { const reply = client.call('GET', key); ${UNDER_TIMEOUT} return reply; });
redis.registerFunction('set', (client, key, value) => { client.call('SET', key, value); ${RUN_ON} return 'ran on'; });
redis.registerFunction('pop', (client, key) => { client.call('BLPOP', key, '0'); ${RUN_ON} return 'ran on'; });
redis.registerFunction('echo', (client, text) => [client.call('ECHO', text), client.call('GET', 'where')]);`,
);
const OTHER = lib('other', `redis.registerFunction('get', (client, key) => client.call('GET', key));`);

/**
 * Sends `tfcall` on `client` while redis-server sleeps: the library's first call waits for the sleep to end. `ms`:
 * from the DEBUG SLEEP's sending to the reply, so at least SLEEP_MS when the call did wait.
 */
async function underSleep(client: Client, tfcall: string[]): Promise<{ reply: Promise<unknown>; ms: Promise<number> }> {
  const started = performance.now();
  const asleep = sleeper.sendCommand(['DEBUG', 'SLEEP', String(SLEEP_MS / 1000)]);
  // Loopback: the DEBUG SLEEP is in the server well before the library's call reaches it.
  await new Promise((resolve) => setTimeout(resolve, 30));
  const reply = client.sendCommand(tfcall);
  const ms = reply.then(
    () => performance.now() - started,
    () => performance.now() - started,
  );
  await asleep;
  return { reply, ms };
}

async function inDb<T>(db: number, read: () => Promise<T>): Promise<T> {
  await direct.select(db);
  try {
    return await read();
  } finally {
    await direct.select(0);
  }
}

describe('the lock timeout and library Redis calls', () => {
  // After useGearsEnv's reset, which deletes every library.
  beforeEach(async () => {
    await load(env.resp3, SLOW);
    await load(env.resp3, OTHER);
  });

  it('does not count the wait of a Redis call: a call several times the lock timeout completes', async () => {
    await direct.set('k', 'v');
    const { reply, ms } = await underSleep(env.resp3, ['TFCALL', 'slow.get', '1', 'k']);
    expect(await reply).toBe('v');
    expect(await ms).toBeGreaterThanOrEqual(SLEEP_MS);
  });

  it('stops a library that runs past the timeout after a slow call; the call ran whole, and the next calls get their own replies in their database', async () => {
    await direct.set('where', 'db0');
    await inDb(5, () => direct.set('where', 'db5'));
    await direct.rPush('queue', ['a', 'b']);

    // In database 5: the shared connection is on 0, so the slow batch starts with a SELECT.
    const set = await underSleep(db5, ['TFCALL', 'slow.set', '1', 'k', 'v']);
    expect(await errorOf(set.reply)).toBe(TERMINATED);
    // Stopped a lock timeout after its call returned, not during it.
    expect(await set.ms).toBeGreaterThanOrEqual(SLEEP_MS + LOCK_TIMEOUT_MS);
    expect(await inDb(5, () => direct.get('k'))).toBe('v');
    expect(await inDb(5, () => direct.exists('ran-on'))).toBe(0);
    expect(await direct.exists('k')).toBe(0);

    // The next calls: the same library and another one, in database 0 and 5.
    expect(await env.resp3.sendCommand(['TFCALL', 'slow.echo', '0', 'mine'])).toEqual(['mine', 'db0']);
    expect(await db5.sendCommand(['TFCALL', 'slow.echo', '0', 'next'])).toEqual(['next', 'db5']);
    expect(await env.resp3.sendCommand(['TFCALL', 'other.get', '1', 'where'])).toBe('db0');
    expect(await db5.sendCommand(['TFCALL', 'other.get', '1', 'k'])).toBe('v');

    // A batch (SELECT back to 0, MULTI, BLPOP, EXEC) the same way.
    const pop = await underSleep(env.resp3, ['TFCALL', 'slow.pop', '1', 'queue']);
    expect(await errorOf(pop.reply)).toBe(TERMINATED);
    expect(await pop.ms).toBeGreaterThanOrEqual(SLEEP_MS + LOCK_TIMEOUT_MS);
    expect(await direct.lRange('queue', 0, -1)).toEqual(['b']);
    expect(await direct.exists('ran-on')).toBe(0);

    expect(await env.resp3.sendCommand(['TFCALL', 'slow.echo', '0', 'after pop'])).toEqual(['after pop', 'db0']);
    expect(await db5.sendCommand(['TFCALL', 'other.get', '1', 'where'])).toBe('db5');
    expect(await env.resp3.sendCommand(['TFCALL', 'other.get', '1', 'where'])).toBe('db0');
    expect(await db5.sendCommand(['TFCALL', 'slow.get', '1', 'k'])).toBe('v');
  }, 20_000);
});
