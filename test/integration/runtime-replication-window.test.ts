/**
 * A replica that replicates through the primary's runtime receives a trigger window whole or not at all, as on
 * Redis Stack, where a keyspace trigger's writes replicate inside one MULTI/EXEC with the command that fired it
 * (docs/runtime.md, replicas and failover). The runtime runs in its own process: the trigger spins in it, and
 * the test must look at the replica meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntimeProcess, type RuntimeProcess } from '../helpers/runtime-process.js';
import { until } from '../helpers/until.js';

/** The trigger spins 300 ms (under the 3000 ms lock timeout given below) before its own write. */
const LIBRARY = `#!js api_version=1.0 name=replwindow
redis.registerKeySpaceTrigger('slow', 'rw:', (client, data) => {
  // Only the client's writes: the test's EXISTS on the primary raises keymiss events too.
  if (data.event !== 'hset' && data.event !== 'set') return;
  const end = Date.now() + 300;
  while (Date.now() < end) {}
  client.call('xadd', 'rwlog', '*', 'key', data.key);
});`;

type Client = ReturnType<typeof createClient>;

/** Lua that spins ARGV[1] ms on the server, then runs `after` (a script may call TIME since Redis 5). */
function spinScript(after = 'return 1'): string {
  return `local t = redis.call('TIME'); local start = t[1] * 1000 + t[2] / 1000
while true do t = redis.call('TIME'); if t[1] * 1000 + t[2] / 1000 - start > tonumber(ARGV[1]) then break end end
${after}`;
}


/** A value whose reply takes the runtime many event-loop turns to read. */
const BIG = 20_000_000;

const servers: RedisServer[] = [];
const runtimes: RuntimeProcess[] = [];
const clients: Client[] = [];

async function connect(url: string): Promise<Client> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  return client;
}

async function startCliRuntime(redis: RedisServer): Promise<string> {
  const runtime = await startRuntimeProcess(redis, ['--lock-timeout', '3000']);
  runtimes.push(runtime);
  return runtime.url;
}

function info(text: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(text)?.[1]?.trim();
}

/** The write `key` and how many captures the replica holds, read atomically. */
async function writeAndCaptures(replica: Client, key: string): Promise<[number, number]> {
  const [exists, captured] = (await replica.multi().exists(key).xLen('rwlog').exec()) as unknown as [number, number];
  return [exists, captured];
}

/**
 * Fires the slow trigger with `key` and watches the replica all through the window: it never holds the write
 * without its capture; afterwards it holds both.
 */
async function firesWindowWhole(writer: Client, primary: Client, replica: Client, key: string): Promise<void> {
  const capturedBefore = await primary.xLen('rwlog');
  const write = writer.hSet(key, 'f', 'v');
  await until(() => primary.exists(key), (n) => n === 1, 5_000, 5);
  const torn: [number, number][] = [];
  let done = false;
  void write.finally(() => (done = true));
  while (!done) {
    const seen = await writeAndCaptures(replica, key);
    if (seen[0] === 1 && seen[1] === capturedBefore) torn.push(seen);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await write;
  expect(torn, 'the replica held the write without its capture').toEqual([]);
  expect(await until(() => writeAndCaptures(replica, key), ([exists]) => exists === 1)).toEqual([1, capturedBefore + 1]);
}

async function offsetsSettled(primary: Client, replica: Client): Promise<void> {
  await until(
    async () => [info(await primary.info('replication'), 'master_repl_offset'), info(await replica.info('replication'), 'master_repl_offset')],
    ([onPrimary, onReplica]) => onPrimary !== undefined && onPrimary === onReplica,
  );
}

let runtimeUrl: string;
let primaryServer: RedisServer;
let replicaServer: RedisServer;
let primary: Client;
let replica: Client;
let writer: Client;

beforeAll(async () => {
  primaryServer = await startRedisServer();
  replicaServer = await startRedisServer();
  servers.push(primaryServer, replicaServer);
  runtimeUrl = await startCliRuntime(primaryServer);
  writer = await connect(runtimeUrl);
  expect(await writer.sendCommand(['TFUNCTION', 'LOAD', LIBRARY])).toBe('OK');
  primary = await connect(primaryServer.url);
  replica = await connect(replicaServer.url);
  await primary.set('rw:big', 'x'.repeat(BIG));
  await replica.sendCommand(['REPLICAOF', '127.0.0.1', new URL(runtimeUrl).port]);
  await until(() => replica.info('replication'), (text) => info(text, 'master_link_status') === 'up');
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  for (const runtime of runtimes) await runtime.close();
  for (const server of servers) await server.stop();
}, 30_000);

describe('a replica through the runtime (diskless full resync first)', () => {
  it("never holds a trigger's client write without the trigger's own write, and holds both after the window", async () => {
    await firesWindowWhole(writer, primary, replica, 'rw:1');
    await offsetsSettled(primary, replica);
  }, 30_000);

  it("never holds it either when the write's reply is slow to come back (the runtime reads the stream meanwhile)", async () => {
    // SET … GET replies with the 20 MB old value: the runtime reads that reply over many event-loop turns, during
    // which the replication stream (the short SET) arrives; then the trigger spins 300 ms.
    const capturedBefore = await primary.xLen('rwlog');
    const write = writer.sendCommand(['SET', 'rw:big', 'small', 'GET']);
    const torn: [number, number][] = [];
    let done = false;
    void write.finally(() => (done = true));
    while (!done) {
      const [length, captured] = (await replica.multi().strLen('rw:big').xLen('rwlog').exec()) as unknown as [number, number];
      if (length === 5 && captured === capturedBefore) torn.push([length, captured]);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(((await write) as unknown as string).length).toBe(BIG);
    expect(torn, 'the replica held the write without its capture').toEqual([]);
    expect(await until(() => replica.xLen('rwlog'), (n) => n === capturedBefore + 1)).toBe(capturedBefore + 1);
    expect(await replica.get('rw:big')).toBe('small');
  }, 30_000);

  it('never holds it either when a ROLE failed (a busy script) and its retry comes while the next window is open', async () => {
    // A first window's closing ROLE gets BUSY: its trigger spins, and a direct client's script starts meanwhile
    // and runs past the busy-reply-threshold; the runtime asks again every 100 ms until the script ends.
    await primary.set('rwbig', 'x'.repeat(BIG));
    await offsetsSettled(primary, replica);
    await primary.configSet('busy-reply-threshold', '10');
    const busy = await connect(primaryServer.url);
    // Its trigger's XADD gets BUSY too: the write may be answered with the trigger's failure.
    const first = writer.hSet('rw:busy', 'f', 'v').catch((error: unknown) => error);
    await until(() => primary.keys('rw:busy'), (keys) => keys.length === 1, 5_000, 5);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await busy.eval(spinScript(), { arguments: ['600'] });
    await first;
    // The next window: a script that writes, spins 200 ms (under the threshold now, so a ROLE waits instead of
    // failing) and replies with 20 MB, which the runtime reads over many event-loop turns. A retry comes during
    // the spin; answered right after the script, its offset has the script's write and not the trigger's XADD,
    // which follows the trigger's 300 ms spin.
    await primary.configSet('busy-reply-threshold', '5000');
    const capturedBefore = await primary.xLen('rwlog');
    const script = `redis.call('SET', KEYS[1], 'v'); ${spinScript("return redis.call('GET', KEYS[2])")}`;
    const write = writer.eval(script, { keys: ['rw:retried', 'rwbig'], arguments: ['200'] });
    const torn: [number, number][] = [];
    let done = false;
    void write.finally(() => (done = true));
    while (!done) {
      const seen = await writeAndCaptures(replica, 'rw:retried');
      if (seen[0] === 1 && seen[1] === capturedBefore) torn.push(seen);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(((await write) as unknown as string).length).toBe(BIG);
    expect(torn, 'the replica held the write without its capture').toEqual([]);
    expect(await until(() => writeAndCaptures(replica, 'rw:retried'), ([exists]) => exists === 1)).toEqual([1, capturedBefore + 1]);
    await primary.del('rwbig');
    await offsetsSettled(primary, replica);
  }, 30_000);

  it('receives a write that fires nothing at once, and WAIT 1 counts it', async () => {
    const started = Date.now();
    await writer.set('plain', 'v');
    await until(() => replica.get('plain'), (v) => v === 'v', 5_000, 5);
    expect(Date.now() - started).toBeLessThan(1_000);
    await writer.hSet('rw:2', 'f', 'v');
    expect(await writer.sendCommand(['WAIT', '1', '5000'])).toBe(1);
    await offsetsSettled(primary, replica);
  }, 30_000);

  it('counts offsets right after a partial resync (+CONTINUE)', async () => {
    const partialBefore = Number(info(await primary.info('stats'), 'sync_partial_ok'));
    await primary.sendCommand(['CLIENT', 'KILL', 'TYPE', 'replica']);
    await until(() => primary.info('stats'), (text) => Number(info(text, 'sync_partial_ok')) > partialBefore);
    await until(() => replica.info('replication'), (text) => info(text, 'master_link_status') === 'up');
    await offsetsSettled(primary, replica);
    await firesWindowWhole(writer, primary, replica, 'rw:3');
    await offsetsSettled(primary, replica);
  }, 30_000);

  it('counts offsets right after a disk-based full resync ($<len> payload)', async () => {
    await primary.configSet('repl-diskless-sync', 'no');
    const fullBefore = Number(info(await primary.info('stats'), 'sync_full'));
    // Promoted, the replica takes a new replid, which the primary does not know: it must resync in full.
    await replica.sendCommand(['REPLICAOF', 'NO', 'ONE']);
    await replica.set('diverged', '1');
    await replica.sendCommand(['REPLICAOF', '127.0.0.1', new URL(runtimeUrl).port]);
    await until(() => primary.info('stats'), (text) => Number(info(text, 'sync_full')) > fullBefore);
    await until(() => replica.info('replication'), (text) => info(text, 'master_link_status') === 'up');
    await offsetsSettled(primary, replica);
    await firesWindowWhole(writer, primary, replica, 'rw:4');
    await offsetsSettled(primary, replica);
  }, 60_000);

  it('leaves the replica with neither the write nor its capture when the primary dies mid-window', async () => {
    // The slow reply again, so that the stream of the write reaches the runtime before the trigger spins.
    await primary.set('rw:big', 'x'.repeat(BIG));
    await until(() => replica.strLen('rw:big'), (length) => length === BIG);
    const capturedBefore = await until(() => primary.xLen('rwlog'), (n) => n > 0);
    await until(() => replica.xLen('rwlog'), (n) => n === capturedBefore);
    const write = writer.sendCommand(['SET', 'rw:big', 'small', 'GET']).catch(() => 'failed');
    await until(() => primary.strLen('rw:big'), (length) => length === 5, 5_000, 5);
    await primaryServer.kill();
    await write;
    await until(() => replica.info('replication'), (text) => info(text, 'master_link_status') === 'down');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [length, captured] = (await replica.multi().strLen('rw:big').xLen('rwlog').exec()) as unknown as [number, number];
    expect([length, captured]).toEqual([BIG, capturedBefore]);
  }, 30_000);
});
