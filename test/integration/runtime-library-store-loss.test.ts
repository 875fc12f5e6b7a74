/**
 * The runtime's library store (`__writebehind_runtime__:libraries` and `…:stream-positions`, db 0) is a pair of
 * keys in redis-server, which a client or the server can make go away: evicted under an `allkeys-*` policy, expired
 * after a client's EXPIRE, deleted (DEL, straight on redis-server or through the runtime). A runtime started after
 * that would run no library and capture nothing, silently. The running runtime sees the keyspace event and writes
 * the store again from what it holds in memory, as after a FLUSHALL, logging a warning naming the key and the
 * cause (docs/runtime.md, the library store). Each test then starts a NEW runtime on the same server: it must list
 * the library, capture with its keyspace trigger, and (where the positions key was lost) not deliver a stream
 * entry its stream trigger had done with.
 */
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, lib, load, type Client } from './gears-support.js';
import { deleteRepeatedly } from '../helpers/delete-repeatedly.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { recordedLog } from '../helpers/recorded-log.js';
import { RUNTIME_RUNNING_KEY } from '../../src/shared/keys.js';

const LIBRARIES = '__writebehind_runtime__:libraries';
const POSITIONS = '__writebehind_runtime__:stream-positions';
/** How long a lost store may stay lost (ms): the rewrite runs at the next turn of the runtime's lock. */
const BACK_WITHIN_MS = 3000;

const CODE = lib(
  'keep',
  `redis.registerKeySpaceTrigger('t', 'cap:', (c, d) => { c.call('rpush', 'captured', d.key); });
   redis.registerStreamTrigger('s', 'st:', (c, d) => { c.call('rpush', 'streamed', d.id.join('-')); });`,
);

interface WarnLine {
  level: number;
  msg: string;
  key?: string;
  cause?: string;
}

let redis: RedisServer;
let runtime: StartedRuntime | undefined;
let client: Client | undefined;
let direct: Client;
let warnings: WarnLine[];

async function connect(url: string): Promise<Client> {
  const connected = createClient({ url });
  await connected.connect();
  return connected;
}

beforeEach(async () => {
  redis = await startRedisServer();
  const recorded = recordedLog<WarnLine>('warn');
  warnings = recorded.lines;
  runtime = await startRuntime(redis, { log: recorded.log });
  client = await connect(runtime.url);
  direct = await connect(redis.url);
  await load(client, CODE);
  await client.xAdd('st:1', '1-1', { v: '1' });
  await eventually(async () => expect(await client!.lRange('streamed', 0, -1)).toEqual(['1-1']));
  // Stream positions are written within 20 ms of the acknowledgement.
  await eventually(async () => expect(await direct.hLen(POSITIONS)).toBe(1));
}, 30_000);

afterEach(async () => {
  await client?.quit().catch(() => undefined);
  await direct?.quit().catch(() => undefined);
  await runtime?.close();
  await redis?.stop();
  client = runtime = undefined;
});

/** The warnings that name `key` as lost. */
function lossWarnings(key: string): WarnLine[] {
  return warnings.filter((line) => line.key === key && line.cause !== undefined);
}

/** Both store keys are there again, without a TTL. */
async function storeIsBack(): Promise<void> {
  await eventually(async () => {
    expect(await direct.type(LIBRARIES)).toBe('hash');
    expect(await direct.hKeys(LIBRARIES)).toEqual(['keep']);
    expect(await direct.pTTL(LIBRARIES)).toBe(-1);
    expect(await direct.hLen(POSITIONS)).toBe(1);
    expect(await direct.pTTL(POSITIONS)).toBe(-1);
  }, BACK_WITHIN_MS);
}

/** A runtime started now on the same server lists the library, captures, and resumes its stream after 1-1. */
async function restartedRuntimeRunsTheLibrary(options: { streamResumes: boolean }): Promise<void> {
  await client!.quit();
  await runtime!.close();
  client = runtime = undefined;
  runtime = await startRuntime(redis);
  client = await connect(runtime.url);
  const listed = (await client.sendCommand(['TFUNCTION', 'LIST'])) as unknown[][];
  expect(listed.map((library) => library[library.indexOf('name') + 1])).toEqual(['keep']);
  await client.hSet('cap:after', 'f', 'v');
  expect(await client.lRange('captured', 0, -1)).toContain('cap:after');
  if (!options.streamResumes) return;
  await client.xAdd('st:1', '2-1', { v: '2' });
  await eventually(async () => expect(await client!.lRange('streamed', 0, -1)).toEqual(['1-1', '2-1']));
}

describe('a library store that goes away while the runtime runs is written again', () => {
  it('deleted straight on redis-server (DEL of both keys): back at once, warned as deleted, and a restarted runtime resumes', async () => {
    await direct.del([LIBRARIES, POSITIONS]);
    await storeIsBack();
    expect(lossWarnings(LIBRARIES).map((line) => line.cause)).toEqual(['deleted']);
    expect(lossWarnings(POSITIONS).map((line) => line.cause)).toEqual(['deleted']);
    await restartedRuntimeRunsTheLibrary({ streamResumes: true });
  });

  for (const flush of ['FLUSHALL', 'FLUSHDB ASYNC'] as const) {
    it(`flushed straight on redis-server (${flush}: no keyspace event, the flush its tracking clients are told of): back, warned as flushed, and a restarted runtime runs the library`, async () => {
      await direct.sendCommand(flush.split(' '));
      await storeIsBack();
      expect(lossWarnings(LIBRARIES).map((line) => line.cause)).toEqual(['flushed']);
      expect(lossWarnings(POSITIONS).map((line) => line.cause)).toEqual(['flushed']);
      // The stream went with the flush (and its position is the runtime's, as in memory): only the library is checked.
      await restartedRuntimeRunsTheLibrary({ streamResumes: false });
    });
  }

  it('deleted through the runtime (UNLINK), or overwritten by a client’s SET: back each time', async () => {
    await client!.unlink(LIBRARIES);
    await storeIsBack();
    await client!.set(LIBRARIES, 'not a hash');
    await storeIsBack();
    expect(lossWarnings(LIBRARIES).map((line) => line.cause)).toEqual(['deleted', 'deleted']);
    // Each rewrite DELs and writes the positions again (as after a FLUSHALL): the runtime's own `del` is no loss.
    expect(lossWarnings(POSITIONS)).toEqual([]);
    await restartedRuntimeRunsTheLibrary({ streamResumes: true });
  });

  it('given a TTL by a client (EXPIRE 1, PEXPIRE 1 straight on redis-server): the TTL is removed, or the expired key written again', async () => {
    await direct.expire(LIBRARIES, 1);
    // Removed well before it would expire.
    await eventually(async () => expect(await direct.pTTL(LIBRARIES)).toBe(-1), 500);
    // 1 ms: expired before the runtime looks, most likely.
    await direct.pExpire(POSITIONS, 1);
    await storeIsBack();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await storeIsBack();
    expect(lossWarnings(LIBRARIES).map((line) => line.cause)).toEqual(['ttl']);
    // Removed before it expired (ttl) or written again after (expired): warned once.
    expect(lossWarnings(POSITIONS).map((line) => ['ttl', 'expired'].includes(line.cause!))).toEqual([true]);
    await restartedRuntimeRunsTheLibrary({ streamResumes: true });
  });

  it('evicted under maxmemory-policy allkeys-lru by a client’s filler: back, warned as evicted, and a restarted runtime runs the library', async () => {
    const used = Number(/used_memory:(\d+)/.exec(await direct.info('memory'))![1]);
    await direct.configSet({ 'maxmemory-policy': 'allkeys-lru', maxmemory: String(used + 1_000_000) });
    const filler = 'x'.repeat(10_000);
    // allkeys-lru samples keys: fill until the store (the least recently used key) has been evicted once.
    for (let i = 0; i < 5000 && lossWarnings(LIBRARIES).length === 0; i++) {
      await direct.set(`filler:${i}`, filler);
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(Number(/evicted_keys:(\d+)/.exec(await direct.info('stats'))![1])).toBeGreaterThan(0);
    expect(lossWarnings(LIBRARIES).map((line) => line.cause)).toContain('evicted');
    await eventually(async () => expect(await direct.hKeys(LIBRARIES)).toEqual(['keep']), BACK_WITHIN_MS);
    await direct.configSet('maxmemory', '0');
    await restartedRuntimeRunsTheLibrary({ streamResumes: false });
  }, 60_000);

  it('refused by the server under maxmemory 1 (OOM): logged as an error, tried again after the wait, back once memory allows', async () => {
    // Every key is evicted at once, and every write refused.
    await direct.configSet({ 'maxmemory-policy': 'allkeys-lru', maxmemory: '1' });
    await eventually(() => expect(lossWarnings(LIBRARIES).filter((line) => line.level === 50).map((line) => line.cause)).toEqual(['evicted']));
    expect(await direct.exists(LIBRARIES)).toBe(0);
    await direct.configSet('maxmemory', '0');
    await eventually(async () => expect(await direct.hKeys(LIBRARIES)).toEqual(['keep']), 3000);
    expect(lossWarnings(LIBRARIES).at(-1)).toMatchObject({ level: 40, cause: 'evicted' });
    await restartedRuntimeRunsTheLibrary({ streamResumes: false });
  });

  it('the runtime’s own deletions (a FLUSHALL through it, TFUNCTION DELETE emptying the hash) are no loss: nothing warned for the store but the running mark the FLUSHALL took, the deleted library stays deleted', async () => {
    await client!.flushAll();
    await eventually(async () => expect(await direct.hKeys(LIBRARIES)).toEqual(['keep']));
    // The FLUSHALL took the running mark too, which the rewrite after it does not write: the guard sets it again.
    await eventually(async () => expect(await direct.exists(RUNTIME_RUNNING_KEY)).toBe(1));
    await client!.sendCommand(['TFUNCTION', 'DELETE', 'keep']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await direct.exists([LIBRARIES, POSITIONS])).toBe(0);
    expect(warnings.filter((line) => line.cause !== undefined).map((line) => [line.key, line.cause])).toEqual([[RUNTIME_RUNNING_KEY, 'flushed']]);
    await client!.quit();
    await runtime!.close();
    client = runtime = undefined;
    runtime = await startRuntime(redis);
    client = await connect(runtime.url);
    expect(await client.sendCommand(['TFUNCTION', 'LIST'])).toEqual([]);
  });

  it('deleted again as soon as it is back: written again after waits that double (at most at 0, 1, 3 s in 3.5 s), each loss warned', async () => {
    const deletions = await deleteRepeatedly(direct, LIBRARIES, 3500);
    // Deleted at once, then after each rewrite (at 0, 1, 3 s): without the waits it would be deleted hundreds of times.
    expect(deletions).toBeGreaterThanOrEqual(2);
    expect(deletions).toBeLessThanOrEqual(4);
    // The last rewrite comes after the current wait (4 s at most here); every deletion was warned.
    await eventually(async () => expect(await direct.hKeys(LIBRARIES)).toEqual(['keep']), 6000);
    expect(lossWarnings(LIBRARIES).map((line) => line.cause)).toEqual(Array.from({ length: deletions }, () => 'deleted'));
    await restartedRuntimeRunsTheLibrary({ streamResumes: true });
  }, 30_000);
});
