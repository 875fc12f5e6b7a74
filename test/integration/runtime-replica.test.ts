/**
 * The runtime in front of a replica outside a cluster (`replicaof`): it loads the libraries from the store it
 * replicated, fires nothing for replicated writes, and at `REPLICAOF NO ONE` fires the triggers and resumes the
 * stream trigger where the primary's runtime left it. And a runtime whose user may not run ROLE still starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';

const LIBRARY = `#!js api_version=1.0 name=standalonereplica
redis.registerKeySpaceTrigger('seen', 'rs:', (client, data) => {
  client.call('incr', 'fired:' + data.key);
  client.call('xadd', 'rslog', '*', 'key', data.key);
});
redis.registerStreamTrigger('logged', 'rslog', (client, data) => {
  client.call('incr', 'streamed');
});`;

type Client = TestClient;

const servers: RedisServer[] = [];
const runtimes: Runtime[] = [];
const clients: Client[] = [];

const direct = (url: string) => connectTestClient(url, clients);

async function keyspaceTriggerStats(url: string): Promise<Record<string, unknown>> {
  const [library] = (await (await direct(url)).sendCommand(['TFUNCTION', 'LIST', 'vv'])) as unknown[][];
  const fields = (flat: unknown[]) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]]));
  return fields((fields(library!)['keyspace_triggers'] as unknown[][])[0]!);
}

async function runtimeFor(server: RedisServer, redisUrl = server.url): Promise<Runtime> {
  const runtime = await Runtime.start({ redisUrl, port: 0 });
  runtimes.push(runtime);
  return runtime;
}

let primary: RedisServer;
let replica: RedisServer;

beforeAll(async () => {
  primary = await startRedisServer();
  replica = await startRedisServer();
  servers.push(primary, replica);
}, 30_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  for (const runtime of runtimes) await runtime.close();
  for (const server of servers) await server.stop();
}, 30_000);

describe('a runtime in front of a replica (replicaof)', () => {
  it('loads the replicated libraries, fires nothing for replicated writes, and after REPLICAOF NO ONE fires them and resumes the stream trigger', async () => {
    const onPrimary = await runtimeFor(primary);
    expect(await (await direct(onPrimary.url)).sendCommand(['TFUNCTION', 'LOAD', LIBRARY])).toBe('OK');
    const writer = await direct(onPrimary.url);
    await writer.hSet('rs:1', 'f', 'v');
    expect(await until(() => writer.get('streamed'), (v) => v === '1')).toBe('1');
    // Replicating through the primary's runtime (its PSYNC is piped to the server).
    const replicaServer = await direct(replica.url);
    await replicaServer.sendCommand(['REPLICAOF', '127.0.0.1', String(onPrimary.port)]);
    await until(() => replicaServer.get('streamed'), (v) => v === '1');
    const onReplica = await runtimeFor(replica);

    await writer.hSet('rs:2', 'f', 'v');
    expect(await until(() => replicaServer.get('streamed'), (v) => v === '2')).toBe('2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await replicaServer.get('fired:rs:2')).toBe('1');
    expect((await keyspaceTriggerStats(onReplica.url))['num_trigger']).toBe(0);
    await expect((await direct(onReplica.url)).hSet('rs:3', 'f', 'v')).rejects.toThrow(/^READONLY/);
    await expect((await direct(onReplica.url)).sendCommand(['TFUNCTION', 'DELETE', 'standalonereplica'])).rejects.toThrow(/^READONLY/);

    await onPrimary.close();
    await replicaServer.sendCommand(['REPLICAOF', 'NO', 'ONE']);
    const promoted = await direct(onReplica.url);
    await promoted.hSet('rs:3', 'f', 'v');
    expect(await promoted.get('fired:rs:3')).toBe('1');
    expect(await until(() => promoted.get('streamed'), (v) => v === '3')).toBe('3');
    // Nothing was delivered twice: the entries of rs:1 and rs:2 stayed behind the replicated position.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await promoted.get('streamed')).toBe('3');
  });
});

// RedisGears' replica rules (reference §TFCALL errors, §3.1 callAsync, §3.2 block).
const RULES = `#!js api_version=1.0 name=replicarules
redis.registerFunction('write', (client) => client.call('set', 'rr:w', '1'));
redis.registerFunction('read', (client) => client.call('get', 'rr:r'), { flags: [redis.functionFlags.NO_WRITES] });
redis.registerAsyncFunction('demoted', async (client) => {
  let aborted = 'not aborted';
  try { await client.block((c) => c.callAsync('blpop', 'rr:q', '0')); } catch (e) { aborted = String(e); }
  // Until the runtime has seen the demotion the write is refused by the server (READONLY); then by the lock.
  for (const end = Date.now() + 5000; Date.now() < end; ) {
    try { client.block((c) => c.call('set', 'rr:after', '1')); } catch (e) { if (String(e).includes('lock redis')) return [aborted, String(e)]; }
    await client.block((c) => c.callAsync('ping'));
  }
  return [aborted, 'never refused'];
});`;

const ON_REPLICA = 'Err can not run a function that might perform writes on a replica or when the "avoid replication traffic" option is enabled';
const LOCK_ON_REPLICA = 'Can not lock redis for write on replica or when the "avoid replication traffic" option is enabled';

describe("RedisGears' replica rules", () => {
  it('refuses a function without no-writes on a replica before running it, runs a no-writes one, and runs a writing one at once after a promotion', async () => {
    const top = await startRedisServer();
    const below = await startRedisServer();
    servers.push(top, below);
    const onTop = await runtimeFor(top);
    expect(await (await direct(onTop.url)).sendCommand(['TFUNCTION', 'LOAD', RULES])).toBe('OK');
    await (await direct(onTop.url)).set('rr:r', 'read on the replica');
    const belowServer = await direct(below.url);
    await belowServer.sendCommand(['REPLICAOF', '127.0.0.1', String(onTop.port)]);
    await until(() => belowServer.get('rr:r'), (v) => v === 'read on the replica');
    const onBelow = await direct((await runtimeFor(below)).url);

    await expect(onBelow.sendCommand(['TFCALL', 'replicarules.write', '0'])).rejects.toThrow(ON_REPLICA);
    await expect(onBelow.sendCommand(['TFCALLASYNC', 'replicarules.write', '0'])).rejects.toThrow(ON_REPLICA);
    expect(await onBelow.sendCommand(['TFCALL', 'replicarules.read', '0'])).toBe('read on the replica');

    // Promoted: the next TFCALL asks ROLE first instead of waiting for the runtime's next look.
    await belowServer.sendCommand(['REPLICAOF', 'NO', 'ONE']);
    expect(await onBelow.sendCommand(['TFCALL', 'replicarules.write', '0'])).toBe('OK');
  });

  it('aborts a pending callAsync when the server turns into a replica, and refuses block() from then on', async () => {
    const top = await startRedisServer();
    const server = await startRedisServer();
    servers.push(top, server);
    const runtime = await runtimeFor(server);
    const caller = await direct(runtime.url);
    expect(await caller.sendCommand(['TFUNCTION', 'LOAD', RULES])).toBe('OK');
    const pending = caller.sendCommand(['TFCALLASYNC', 'replicarules.demoted', '0']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await (await direct(server.url)).sendCommand(['REPLICAOF', '127.0.0.1', String(top.port)]);
    const [aborted, refused] = (await pending) as unknown as string[];
    expect(aborted).toContain('instance state changed');
    expect(refused).toBe(LOCK_ON_REPLICA);
  }, 30_000);
});

describe('a runtime whose user may not run ROLE', () => {
  it('starts, and fires triggers as on a primary', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const admin = await direct(server.url);
    await admin.sendCommand(['ACL', 'SETUSER', 'norole', 'on', '>pw', '+@all', '-role', '~*', '&*']);
    const runtime = await runtimeFor(server, `redis://norole:pw@127.0.0.1:${server.port}`);
    const client = await direct(runtime.url);
    expect(await client.sendCommand(['TFUNCTION', 'LOAD', LIBRARY])).toBe('OK');
    await client.hSet('rs:9', 'f', 'v');
    expect(await client.get('fired:rs:9')).toBe('1');
  });
});

describe('a runtime over a redis-server whose ROLE is renamed away (rename-command)', () => {
  it('starts, fires triggers, and a replica through it still receives each write with its trigger writes', async () => {
    const server = await startRedisServer({ extraArgs: ['--rename-command', 'ROLE', ''] });
    const follower = await startRedisServer();
    servers.push(server, follower);
    const runtime = await runtimeFor(server);
    const client = await direct(runtime.url);
    expect(await client.sendCommand(['TFUNCTION', 'LOAD', LIBRARY])).toBe('OK');
    const onFollower = await direct(follower.url);
    await onFollower.sendCommand(['REPLICAOF', '127.0.0.1', String(runtime.port)]);
    await client.set('probe', '1');
    expect(await client.sendCommand(['WAIT', '1', '10000'])).toBe(1);

    // A trigger window: the runtime cannot confirm it with ROLE, so it must not hold the replica's bytes for it.
    await client.hSet('rs:1', 'f', 'v');
    expect(await client.get('fired:rs:1')).toBe('1');
    expect(await until(() => onFollower.get('fired:rs:1'), (v) => v === '1', 5_000).catch(() => 'missing')).toBe('1');
    expect(await onFollower.hGet('rs:1', 'f')).toBe('v');
  }, 30_000);
});
