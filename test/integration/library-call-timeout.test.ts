/**
 * The lock timeout and library code's Redis calls. Library code runs in an isolated-vm isolate and reaches Redis
 * through a synchronous host callback (sandbox.ts: an ivm.Callback, called from inside the guest's timed
 * applySync), whose SyncRedis call blocks the main thread on the socket. As in RedisGears, the lock timeout is
 * wall-clock time of the lock hold, time in Redis calls included, and a call in progress is never cut short:
 *
 * - isolated-vm's own timer pauses while the thread runs a host callback (executor.cc, timer.cc), so it counts
 *   the guest's own time only; the sandbox checks the wall clock around each Redis call, and once the call's
 *   deadline is past it has the guest terminate itself when the call returns (RedisGears: RM_Call runs to its
 *   end, V8's termination hits when control is back in JavaScript);
 * - a termination stops the guest isolate only, never host code.
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

/** Library code that runs for 90% of the lock timeout: isolated-vm's timer of the guest's own time does not end it. */
const LATE_RUN = `const later = Date.now() + ${(LOCK_TIMEOUT_MS * 9) / 10}; while (Date.now() < later);`;

/**
 * `slow`: `get` waits in its call, then runs on a little and returns; `incr` the same after an INCR; `late` waits
 * in its call for most of the lock timeout, then runs on until past it, then calls again; `set` and `pop` wait in their call and then
 * exceed the lock timeout. `set` is one command; `pop`, a blocking one, goes as a MULTI/EXEC batch. `loop` makes
 * cheap calls until it is stopped: most of its time is in the calls, a few microseconds per call in the isolate;
 * `blockLoop` does the same in the block() of an async function, and the `loop` trigger for a write to `loop:…`.
 */
const SLOW = lib(
  'slow',
  `redis.registerFunction('get', (client, key) => { const reply = client.call('GET', key); ${UNDER_TIMEOUT} return reply; });
redis.registerFunction('incr', (client, key) => { client.call('INCR', key); ${UNDER_TIMEOUT} return 'ran on'; });
redis.registerFunction('late', (client, key) => { client.call('GET', key); ${LATE_RUN} client.call('SET', 'ran-on', '1'); return 'ran on'; });
redis.registerFunction('loop', (client) => { for (let i = 0; i < 1e7; i++) client.call('SET', 'looped', String(i)); return 'looped'; });
redis.registerAsyncFunction('blockLoop', async (client) => client.block((c) => { for (let i = 0; i < 1e7; i++) c.call('SET', 'looped', String(i)); return 'looped'; }));
redis.registerKeySpaceTrigger('loop', 'loop:', (client) => { for (let i = 0; i < 1e7; i++) client.call('SET', 'looped', String(i)); });
redis.registerFunction('set', (client, key, value) => { client.call('SET', key, value); ${RUN_ON} return 'ran on'; });
redis.registerFunction('pop', (client, key) => { client.call('BLPOP', key, '0'); ${RUN_ON} return 'ran on'; });
redis.registerFunction('echo', (client, text) => [client.call('ECHO', text), client.call('GET', 'where')]);`,
);
const OTHER = lib('other', `redis.registerFunction('get', (client, key) => client.call('GET', key));`);

/**
 * Sends `tfcall` on `client` while redis-server sleeps `sleepMs`: the library's first call waits for the sleep to
 * end. `ms`: from the DEBUG SLEEP's sending to the reply, so at least `sleepMs` when the call did wait.
 */
async function underSleep(client: Client, tfcall: string[], sleepMs = SLEEP_MS): Promise<{ reply: Promise<unknown>; ms: Promise<number> }> {
  const started = performance.now();
  const asleep = sleeper.sendCommand(['DEBUG', 'SLEEP', String(sleepMs / 1000)]);
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

  it('counts the wait of a Redis call: a call several times the lock timeout runs whole, and the library is stopped when it returns', async () => {
    await direct.set('n', '1');
    const { reply, ms } = await underSleep(env.resp3, ['TFCALL', 'slow.incr', '1', 'n']);
    expect(await errorOf(reply)).toBe(TERMINATED);
    // The call waited for the sleep and ran whole; the code after it never ran, not even its short run under the timeout.
    expect(await ms).toBeGreaterThanOrEqual(SLEEP_MS);
    expect(await ms).toBeLessThan(SLEEP_MS + LOCK_TIMEOUT_MS);
    expect(await direct.get('n')).toBe('2');
    expect(await env.resp3.sendCommand(['TFCALL', 'other.get', '1', 'n'])).toBe('2');
  });

  it('does not start a call once the lock timeout has passed, counting the time of the calls before it', async () => {
    await direct.set('k', 'v');
    // The library's GET waits ~95 ms (the sleep started ~30 ms before the TFCALL): it returns before the timeout,
    // which the grid ends 100–150 ms into the call; the library then runs for 90 ms of its own time, to ~185 ms.
    const { reply } = await underSleep(env.resp3, ['TFCALL', 'slow.late', '1', 'k'], 30 + LOCK_TIMEOUT_MS * 0.95);
    expect(await errorOf(reply)).toBe(TERMINATED);
    expect(await direct.exists('ran-on')).toBe(0);
  });

  it('stops a function looping over cheap Redis calls at the lock timeout of wall time, not of its own time', async () => {
    const started = performance.now();
    const reply = env.resp3.sendCommand(['TFCALL', 'slow.loop', '0']);
    expect(await errorOf(reply)).toBe(TERMINATED);
    const ms = performance.now() - started;
    // The grid ends the timeout 0–50 ms late (RedisGears: 0–100 ms), then the call in progress ends.
    expect(ms).toBeGreaterThanOrEqual(LOCK_TIMEOUT_MS);
    expect(ms).toBeLessThan(LOCK_TIMEOUT_MS + 250);
    expect(Number(await direct.get('looped'))).toBeGreaterThan(0);
    // The lock is free and the shared connection in step.
    expect(await env.resp3.ping()).toBe('PONG');
    await direct.set('k', 'v');
    expect(await env.resp3.sendCommand(['TFCALL', 'other.get', '1', 'k'])).toBe('v');
  });

  it('stops the block() of an async function looping over cheap Redis calls at the lock timeout of wall time', async () => {
    const started = performance.now();
    expect(await errorOf(env.resp3.sendCommand(['TFCALLASYNC', 'slow.blockLoop', '0']))).toBe(TERMINATED);
    const ms = performance.now() - started;
    expect(ms).toBeGreaterThanOrEqual(LOCK_TIMEOUT_MS);
    expect(ms).toBeLessThan(LOCK_TIMEOUT_MS + 250);
    expect(Number(await direct.get('looped'))).toBeGreaterThan(0);
    expect(await env.resp3.ping()).toBe('PONG');
  });

  it('stops a keyspace trigger looping over cheap Redis calls at the lock timeout of wall time', async () => {
    const started = performance.now();
    const write = env.resp3.set('loop:1', 'x');
    const ping = env.resp3.ping();
    expect(await write).toBe('OK');
    expect(await ping).toBe('PONG');
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(LOCK_TIMEOUT_MS + 250);
    expect(Number(await direct.get('looped'))).toBeGreaterThan(0);
    await direct.set('k', 'v');
    expect(await env.resp3.sendCommand(['TFCALL', 'other.get', '1', 'k'])).toBe('v');
  });

  it('stops a library that runs past the timeout after a slow call; the call ran whole, and the next calls get their own replies in their database', async () => {
    await direct.set('where', 'db0');
    await inDb(5, () => direct.set('where', 'db5'));
    await direct.rPush('queue', ['a', 'b']);

    // In database 5: the shared connection is on 0, so the slow batch starts with a SELECT.
    const set = await underSleep(db5, ['TFCALL', 'slow.set', '1', 'k', 'v']);
    expect(await errorOf(set.reply)).toBe(TERMINATED);
    // Stopped when its call returned, not during it.
    expect(await set.ms).toBeGreaterThanOrEqual(SLEEP_MS);
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
    expect(await pop.ms).toBeGreaterThanOrEqual(SLEEP_MS);
    expect(await direct.lRange('queue', 0, -1)).toEqual(['b']);
    expect(await direct.exists('ran-on')).toBe(0);

    expect(await env.resp3.sendCommand(['TFCALL', 'slow.echo', '0', 'after pop'])).toEqual(['after pop', 'db0']);
    expect(await db5.sendCommand(['TFCALL', 'other.get', '1', 'where'])).toBe('db5');
    expect(await env.resp3.sendCommand(['TFCALL', 'other.get', '1', 'where'])).toBe('db0');
    expect(await db5.sendCommand(['TFCALL', 'slow.get', '1', 'k'])).toBe('v');
  }, 20_000);
});
