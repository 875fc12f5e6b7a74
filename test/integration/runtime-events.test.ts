/**
 * Event capture, ordering and atomicity: what the server hands the library host, and when. A RuntimeTestHost
 * (a double of our own seam) records the events and runs scripted triggers and functions whose Redis calls are
 * real and synchronous.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import type { KeyspaceEvent, LockedExecutor } from '../../src/runtime/gears-host.js';
import { blob, integer } from '../../src/runtime/resp/types.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { RuntimeTestHost, type RuntimeTestHostOptions } from '../helpers/runtime-test-host.js';

let redis: RedisServer;
let started: StartedRuntime | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterEach(async () => {
  await started?.close();
  started = undefined;
  const direct = await RespSocket.open(redis.port);
  direct.send(['FLUSHALL']);
  await direct.read(1);
  direct.close();
});

afterAll(async () => {
  await redis?.stop();
});

async function start(options: Omit<RuntimeTestHostOptions, 'redisPort'>): Promise<{ host: RuntimeTestHost; port: number; executor: LockedExecutor }> {
  const host = new RuntimeTestHost({ redisPort: redis.port, ...options });
  let executor: LockedExecutor | undefined;
  started = await startRuntime(redis, {
    createHost: async (hostOptions) => {
      executor = hostOptions.executor;
      return host;
    },
  });
  return { host, port: started.port, executor: executor! };
}

const describeEvents = (events: readonly KeyspaceEvent[]) => events.map((e) => `${e.db}:${e.event}:${e.key.toString('latin1')}`);

describe('event capture', () => {
  it('the events a command caused reach the host before its reply, with their database', async () => {
    const { host, port } = await start({ keyspacePrefixes: ['user:'] });
    const socket = await RespSocket.open(port);
    socket.send(['HSET', 'user:1', 'name', 'ann'], ['SELECT', '2'], ['SET', 'user:2', 'x', 'PX', '100000'], ['GET', 'user:missing'], ['SET', 'other', '1']);
    const replies = await socket.read(2);
    expect(replies.map((r) => r.raw.toString())).toEqual([':1\r\n', '+OK\r\n']);
    // HSET's reply is in: its event was handed over first (later commands' may have been too by now).
    expect(describeEvents(host.keyspaceEvents)[0]).toBe('0:hset:user:1');
    await socket.read(3);
    // SET ... PX raises set and expire; GET of a missing key raises keymiss; keys outside the prefixes are not handed over.
    expect(describeEvents(host.keyspaceEvents)).toEqual(['0:hset:user:1', '2:set:user:2', '2:expire:user:2', '2:keymiss:user:missing']);
    expect(host.keyspaceBatches.map((batch) => batch.length)).toEqual([1, 2, 1]);
    socket.close();
  });

  it("a client's CONFIG SET notify-keyspace-events keeps the flags the triggers need (the Tcl suite's pubsub unit sets `E`)", async () => {
    const { host, port } = await start({ keyspacePrefixes: ['user:'] });
    const socket = await RespSocket.open(port);
    socket.send(['CONFIG', 'SET', 'notify-keyspace-events', 'E'], ['HSET', 'user:1', 'name', 'ann']);
    expect((await socket.read(2)).map((r) => r.raw.toString())).toEqual(['+OK\r\n', ':1\r\n']);
    expect(describeEvents(host.keyspaceEvents)).toEqual(['0:hset:user:1']);
    // Inside MULTI (run at EXEC), several parameters at once, any case: the flags the client gave, plus the runtime's.
    socket.send(['MULTI'], ['config', 'set', 'maxmemory-samples', '5', 'Notify-Keyspace-Events', ''], ['EXEC'], ['CONFIG', 'GET', 'notify-keyspace-events'], ['SET', 'user:2', 'x']);
    const replies = await socket.read(5);
    expect(replies[2]!.raw.toString()).toBe('*1\r\n+OK\r\n');
    expect(replies[3]!.raw.toString()).toBe('*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKm\r\n');
    expect(describeEvents(host.keyspaceEvents)).toEqual(['0:hset:user:1', '0:set:user:2']);
    socket.close();
  });

  it("a client's CONFIG SET client-output-buffer-limit keeps the pubsub class the runtime lifted, so a burst still does not drop its subscription", async () => {
    const { host, port } = await start({ keyspacePrefixes: ['user:'] });
    const socket = await RespSocket.open(port);
    const direct = await RespSocket.open(redis.port);
    const serverLimit = async () => {
      direct.send(['CONFIG', 'GET', 'client-output-buffer-limit']);
      return (await direct.read(1))[0]!.raw.toString().split('\r\n')[4];
    };
    try {
      socket.send(['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 256kb 128kb 10']);
      expect((await socket.read(1))[0]!.raw.toString()).toBe('+OK\r\n');
      expect(await serverLimit()).toMatch(/ pubsub 0 0 0$/);
      // Inside MULTI, with other classes (kept as the client wrote them) and other parameters, any case.
      socket.send(['MULTI'], ['config', 'set', 'maxmemory-samples', '5', 'Client-Output-Buffer-Limit', 'normal 1mb 512kb 5 PUBSUB 256kb 128kb 10'], ['EXEC']);
      expect((await socket.read(3))[2]!.raw.toString()).toBe('*1\r\n+OK\r\n');
      expect(await serverLimit()).toMatch(/^normal 1048576 524288 5 .* pubsub 0 0 0$/);
      // 20000 keyspace messages at once, far past the 256kb the client asked for: the subscription holds.
      socket.send(['EVAL', "for i = 1, 20000 do redis.call('SET', 'user:burst:' .. i, i) end return 1", '0'], ['HSET', 'user:1', 'name', 'ann']);
      expect((await socket.read(2, 20_000)).map((r) => r.raw.toString())).toEqual([':1\r\n', ':1\r\n']);
      expect(describeEvents(host.keyspaceEvents).at(-1)).toBe('0:hset:user:1');
    } finally {
      socket.close();
      direct.close();
    }
  });

  it('`new` events (flag `n`, which a client may set) are not handed over: RedisGears subscribes with ALL, which leaves them out', async () => {
    const { host, port } = await start({ keyspacePrefixes: ['user:'] });
    const socket = await RespSocket.open(port);
    socket.send(['CONFIG', 'SET', 'notify-keyspace-events', 'AKmn'], ['HSET', 'user:1', 'name', 'ann']);
    expect((await socket.read(2)).map((r) => r.raw.toString())).toEqual(['+OK\r\n', ':1\r\n']);
    expect(describeEvents(host.keyspaceEvents)).toEqual(['0:hset:user:1']);
    socket.close();
  });

  it('MULTI/EXEC and scripts hand over all their events at the end, once', async () => {
    const { host, port } = await start({ keyspacePrefixes: ['user:'] });
    const client = createClient({ url: `redis://127.0.0.1:${port}`, RESP: 3 });
    await client.connect();
    await client.multi().set('user:a', '1').set('user:b', '2').del('user:a').exec();
    expect(host.keyspaceBatches.map(describeEvents)).toEqual([['0:set:user:a', '0:set:user:b', '0:del:user:a']]);
    await client.eval("redis.call('SET', KEYS[1], '1'); return redis.call('INCR', KEYS[1])", { keys: ['user:lua'] });
    expect(host.keyspaceBatches.at(-1)!.map((e) => e.event)).toEqual(['set', 'incrby']);
    await client.close();
  });

  it('binary keys arrive as their exact bytes', async () => {
    const { host, port } = await start({ keyspacePrefixes: ['bin:'] });
    const key = Buffer.concat([Buffer.from('bin:'), Buffer.from([0x00, 0xff, 0xfe, 0x0a])]);
    const socket = await RespSocket.open(port);
    socket.send(['SET', key, 'v']);
    await socket.read(1);
    expect(host.keyspaceEvents[0]!.key.equals(key)).toBe(true);
    socket.close();
  });

  it('expirations reach the host with no command in flight', async () => {
    const { host, port } = await start({ keyspacePrefixes: ['session:'] });
    const socket = await RespSocket.open(port);
    socket.send(['SET', 'session:1', 'x', 'PX', '30']);
    await socket.read(1);
    const deadline = Date.now() + 5000;
    while (!host.keyspaceEvents.some((e) => e.event === 'expired') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(describeEvents(host.keyspaceEvents)).toContain('0:expired:session:1');
    socket.close();
  });

  it('FLUSHALL and FLUSHDB tell the host what was flushed', async () => {
    const { host, port } = await start({});
    const socket = await RespSocket.open(port);
    socket.send(['SELECT', '4'], ['FLUSHDB'], ['FLUSHALL', 'SYNC']);
    await socket.read(3);
    expect(host.flushes).toEqual([4, 'all']);
    socket.close();
  });
});

describe('ordering and atomicity', () => {
  for (const RESP of [2, 3] as const)
  it(`a trigger’s writes are visible before the command’s reply, and its own events fire nothing (RESP${RESP})`, async () => {
    const { host, port } = await start({
      keyspacePrefixes: ['user:'],
      onKeyspace: (events, call) => {
        for (const event of events) call('HSET', `user:audit`, event.key.toString(), event.event);
      },
    });
    const client = createClient({ url: `redis://127.0.0.1:${port}`, RESP });
    await client.connect();
    await client.set('user:1', 'a');
    expect(await client.hGetAll('user:audit')).toEqual({ 'user:1': 'set' });
    // The trigger's HSET on user:audit (a matching key) was suppressed, as RedisGears suppresses it.
    expect(host.keyspaceBatches.map(describeEvents)).toEqual([['0:set:user:1']]);
    await client.close();
  });

  it('no other client’s command runs between a command and its trigger', async () => {
    const { port } = await start({
      keyspacePrefixes: ['slow:'],
      onKeyspace: (_events, call) => {
        call('RPUSH', 'log', 'trigger-start');
        const until = Date.now() + 300;
        while (Date.now() < until); // the trigger takes its time, holding the lock
        call('RPUSH', 'log', 'trigger-end');
      },
    });
    const a = await RespSocket.open(port);
    const b = await RespSocket.open(port);
    a.send(['SET', 'slow:1', 'x']);
    await new Promise((r) => setTimeout(r, 50));
    b.send(['RPUSH', 'log', 'other-client']);
    await Promise.all([a.read(1), b.read(1)]);
    const direct = await RespSocket.open(redis.port);
    direct.send(['LRANGE', 'log', '0', '-1']);
    const [log] = await direct.read(1);
    expect(log!.raw.toString()).toBe('*3\r\n$13\r\ntrigger-start\r\n$11\r\ntrigger-end\r\n$12\r\nother-client\r\n');
    for (const s of [a, b, direct]) s.close();
  });

  it('a function’s writes fire no keyspace trigger but do feed stream triggers', async () => {
    const { host, port } = await start({
      keyspacePrefixes: ['user:'],
      streamPrefixes: ['out:'],
      functions: {
        write: (call, args) => {
          call('SET', args[1]!, 'from-function');
          call('XADD', 'out:1', '*', 'k', args[1]!);
          return integer(2);
        },
      },
    });
    const socket = await RespSocket.open(port);
    socket.send(['TFCALL', 'lib.write', '1', 'user:9']);
    expect((await socket.readBytes(1))).toBe(':2\r\n');
    expect(host.keyspaceBatches).toEqual([]);
    expect(host.streamBatches.map((batch) => batch.map((s) => s.key.toString()))).toEqual([['out:1']]);
    socket.send(['TFCALL', 'lib.write'], ['TFCALL', 'lib.nope', '0']);
    expect(await socket.readBytes(2)).toBe("-ERR wrong number of arguments for 'tfcall' command\r\n-ERR Unknown function lib.nope\r\n");
    socket.close();
  });

  it('stream writes by a client are handed to the stream triggers before the XADD reply', async () => {
    const { host, port } = await start({ streamPrefixes: ['s:'], onStreams: (_streams, call) => void call('INCR', 'stream-trigger-ran') });
    const client = createClient({ url: `redis://127.0.0.1:${port}`, RESP: 3 });
    await client.connect();
    await client.xAdd('s:1', '*', { f: 'v' });
    expect(await client.get('stream-trigger-ran')).toBe('1');
    expect(host.streamBatches.length).toBe(1);
    await client.close();
  });

  it('TFCALL inside MULTI runs at EXEC, in order, atomically, and honours WATCH', async () => {
    const { host, port } = await start({
      keyspacePrefixes: ['user:'],
      functions: { get: (call, args) => blob(call('GET', args[1]!)) },
    });
    const a = await RespSocket.open(port);
    a.send(['MULTI'], ['SET', 'user:t', 'before'], ['TFCALL', 'lib.get', '1', 'user:t'], ['SET', 'user:t', 'after'], ['EXEC']);
    expect(await a.readBytes(5)).toBe('+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n$6\r\nbefore\r\n+OK\r\n');
    expect(host.commands.at(-1)!.caller.inTransaction).toBe(true);
    expect(host.keyspaceBatches.map(describeEvents)).toEqual([['0:set:user:t', '0:set:user:t']]);
    // WATCH: another client's change makes EXEC fail, TFCALL included.
    const b = await RespSocket.open(port);
    a.send(['WATCH', 'user:t'], ['MULTI'], ['TFCALL', 'lib.get', '1', 'user:t']);
    await a.read(3);
    b.send(['SET', 'user:t', 'changed']);
    await b.read(1);
    a.send(['EXEC'], ['HELLO', '3'], ['MULTI'], ['TFCALL', 'lib.get', '1', 'user:t'], ['EXEC']);
    const [exec, , , , exec3] = await a.read(5);
    expect(exec!.raw.toString()).toBe('*-1\r\n');
    expect(exec3!.raw.toString()).toBe('*1\r\n$7\r\nchanged\r\n');
    a.close();
    b.close();
  });

  it('a transaction with TFCALL and a command the server refused aborts as redis-server does; DISCARD drops it', async () => {
    const { host, port } = await start({ keyspacePrefixes: ['user:'], functions: { one: () => integer(1) } });
    const socket = await RespSocket.open(port);
    socket.send(['MULTI'], ['NOSUCH'], ['TFCALL', 'lib.one', '0'], ['EXEC'], ['MULTI'], ['TFCALL'], ['EXEC']);
    const replies = (await socket.read(7)).map((r) => r.raw.toString());
    expect(replies[3]).toBe('-EXECABORT Transaction discarded because of previous errors.\r\n');
    expect(replies[5]).toBe("-ERR wrong number of arguments for 'tfcall' command\r\n");
    expect(replies[6]).toBe('-EXECABORT Transaction discarded because of previous errors.\r\n');
    socket.send(['MULTI'], ['SET', 'user:d', '1'], ['TFCALL', 'lib.one', '0'], ['DISCARD'], ['EXISTS', 'user:d']);
    expect(await socket.readBytes(5)).toBe('+OK\r\n+QUEUED\r\n+QUEUED\r\n+OK\r\n:0\r\n');
    expect(host.commands).toEqual([]);
    socket.close();
  });

  it('library work started later (LockedExecutor.runLocked) runs under the lock and is settled', async () => {
    const { host, port, executor } = await start({ keyspacePrefixes: ['user:'], streamPrefixes: ['out:'] });
    const result = await executor.runLocked(() => {
      host.call(0, 'SET', 'user:async', '1');
      host.call(0, 'XADD', 'out:async', '*', 'f', 'v');
      return 'done';
    });
    expect(result).toBe('done');
    expect(host.keyspaceBatches).toEqual([]);
    expect(host.streamBatches.flat().map((s) => s.key.toString())).toEqual(['out:async']);
    const socket = await RespSocket.open(port);
    socket.send(['GET', 'user:async']);
    expect(await socket.readBytes(1)).toBe('$1\r\n1\r\n');
    socket.close();
  });
});

describe('the caller the host is told about', () => {
  it('tracks db, protocol and ACL user (AUTH, HELLO AUTH, SELECT, RESET); a user who may not PUBLISH still gets markers', async () => {
    const direct = await RespSocket.open(redis.port);
    direct.send(['ACL', 'SETUSER', 'alice', 'on', '>pw', '~*', '&*', '+@all'], ['ACL', 'SETUSER', 'bob', 'on', '>pw', '~*', '+@all', '-publish']);
    await direct.read(2);
    const { host, port } = await start({ keyspacePrefixes: ['user:'], functions: { who: () => integer(0) } });
    const socket = await RespSocket.open(port);
    socket.send(['AUTH', 'alice', 'pw'], ['SELECT', '5'], ['TFCALL', 'lib.who', '0']);
    await socket.read(3);
    socket.send(['HELLO', '3', 'AUTH', 'bob', 'pw'], ['TFCALL', 'lib.who', '0'], ['SET', 'user:bob', '1'], ['RESET'], ['TFCALL', 'lib.who', '0']);
    const replies = await socket.read(5);
    expect(replies[2]!.raw.toString()).toBe('+OK\r\n');
    expect(host.commands.map((c) => c.caller)).toEqual([
      { db: 5, protocol: 2, user: 'alice', authenticated: true, inTransaction: false },
      { db: 5, protocol: 3, user: 'bob', authenticated: true, inTransaction: false },
      { db: 0, protocol: 2, user: 'default', authenticated: false, inTransaction: false },
    ]);
    expect(describeEvents(host.keyspaceEvents)).toEqual(['5:set:user:bob']);
    socket.close();
    direct.close();
  });
});

describe('async functions (TFCALLASYNC)', () => {
  it('the client waits for the promise without holding the lock; the work runs through runLocked', async () => {
    let executor: LockedExecutor | undefined;
    let finish: (() => void) | undefined;
    const host = new RuntimeTestHost({
      redisPort: redis.port,
      streamPrefixes: ['out:'],
      functions: {
        later: () =>
          new Promise((resolve) => {
            finish = () => void executor!.runLocked(() => host.call(0, 'XADD', 'out:later', '*', 'f', 'v')).then((id) => resolve(blob(id)));
          }),
      },
    });
    started = await startRuntime(redis, {
      createHost: async (options) => {
        executor = options.executor;
        return host;
      },
    });
    const waiting = await RespSocket.open(started.port);
    waiting.send(['TFCALLASYNC', 'lib.later', '0']);
    await new Promise((r) => setTimeout(r, 50));
    const other = await RespSocket.open(started.port);
    other.send(['SET', 'x', '1']);
    expect(await other.readBytes(1)).toBe('+OK\r\n');
    finish!();
    const [reply] = await waiting.read(1);
    expect(reply!.raw.toString()).toMatch(/^\$\d+\r\n\d+-\d+\r\n$/);
    expect(host.streamBatches.flat().map((s) => s.key.toString())).toEqual(['out:later']);
    waiting.close();
    other.close();
  });
});

describe('restart', () => {
  it('a runtime closed and started again over the same server resumes: restore() runs, commands and events flow', async () => {
    const first = await start({ keyspacePrefixes: ['user:'] });
    const socket = await RespSocket.open(first.port);
    socket.send(['SET', 'user:r', '1']);
    await socket.read(1);
    await started!.close();
    await started!.close(); // idempotent
    expect(first.host.closed).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(socket.isClosed).toBe(true);

    const second = await start({ keyspacePrefixes: ['user:'] });
    expect(second.host.restores).toBe(1);
    const again = await RespSocket.open(second.port);
    again.send(['GET', 'user:r'], ['DEL', 'user:r']);
    expect(await again.readBytes(2)).toBe('$1\r\n1\r\n:1\r\n');
    expect(describeEvents(second.host.keyspaceEvents)).toEqual(['0:del:user:r']);
    const config = await RespSocket.open(redis.port);
    config.send(['CONFIG', 'GET', 'notify-keyspace-events']);
    expect((await config.readBytes(1))).toMatch(/\$\d+\r\n[A-Za-z$]*\r\n$/);
    again.close();
    config.close();
  });
});
