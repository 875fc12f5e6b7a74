/**
 * Pass-through conformance: every command that is not RedisGears' own reaches redis-server on the client's own
 * connection, and the client gets the server's reply bytes unchanged — compared byte for byte with the same
 * commands sent straight to the server, then through node-redis in RESP2 and RESP3, and through redis-cli.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { useRuntimeWithTestHost } from '../helpers/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';

const env = useRuntimeWithTestHost({ flush: true });

/**
 * Sends the same bytes to the server and to the runtime (from the same data set); returns both replies.
 * `prelude` runs first on the connection that then sends `bytes` (e.g. HELLO 3).
 */
async function bothWays(bytes: Buffer | string, replies: number, prelude?: (socket: RespSocket) => Promise<void>): Promise<[string, string]> {
  const out: string[] = [];
  for (const port of [env.redis.port, env.runtime.port]) {
    const flush = await RespSocket.open(env.redis.port);
    flush.send(['FLUSHALL']);
    await flush.read(1);
    flush.close();
    const socket = await RespSocket.open(port);
    await prelude?.(socket);
    socket.write(bytes);
    out.push(await socket.readBytes(replies));
    socket.close();
  }
  return [out[0]!, out[1]!];
}

const cmd = (...args: (string | Buffer)[]) => {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
};

describe('reply bytes are the server’s own', () => {
  it('values, nil and error texts (RESP2)', async () => {
    const script = Buffer.concat([
      cmd('SET', 'k', 'v'), cmd('GET', 'k'), cmd('GET', 'missing'), cmd('INCR', 'k'), cmd('LPUSH', 'k', 'x'),
      cmd('NOSUCHCOMMAND', 'a'), cmd('SET'), cmd('HSET', 'trig:h', 'a', '1', 'b', '2'), cmd('HGETALL', 'trig:h'),
      cmd('SADD', 's', 'x'), cmd('SMEMBERS', 's'), cmd('ZADD', 'z', '1.5', 'm'), cmd('ZSCORE', 'z', 'm'),
      cmd('CONFIG', 'GET', 'maxmemory'), cmd('OBJECT', 'ENCODING', 'trig:h'), cmd('XADD', 'trig:x', '1-1', 'f', 'v'),
      cmd('XRANGE', 'trig:x', '-', '+'), cmd('EXPIRE', 'missing', '10'), cmd('TYPE', 'trig:h'), cmd('MGET', 'k', 'missing', 'trig:h'),
    ]);
    const [direct, proxied] = await bothWays(script, 20);
    expect(proxied).toBe(direct);
    expect(proxied).toContain("-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' \r\n");
    expect(proxied).toContain('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  });

  it('RESP3 types after HELLO 3: maps, sets, doubles, nulls', async () => {
    const script = Buffer.concat([
      cmd('HSET', 'trig:h', 'a', '1'), cmd('HGETALL', 'trig:h'), cmd('SADD', 's', 'x'), cmd('SMEMBERS', 's'),
      cmd('ZADD', 'z', '2.5', 'm'), cmd('ZSCORE', 'z', 'm'), cmd('GET', 'missing'), cmd('CONFIG', 'GET', 'maxmemory'),
      cmd('HGETALL', 'missing'), cmd('XADD', 'trig:x', '1-1', 'f', 'v'), cmd('XINFO', 'STREAM', 'trig:x'),
    ]);
    const [direct, proxied] = await bothWays(script, 11, async (socket) => {
      socket.send(['HELLO', '3']);
      const [hello] = await socket.read(1);
      expect(hello!.value.type).toBe('map');
    });
    expect(proxied).toBe(direct);
    expect(proxied).toContain('_\r\n');
    expect(proxied).toContain(',2.5\r\n');
  });

  it('MULTI/EXEC, EXECABORT and a nested MULTI', async () => {
    const script = Buffer.concat([
      cmd('MULTI'), cmd('SET', 'trig:a', '1'), cmd('INCR', 'trig:a'), cmd('LPUSH', 'trig:a', 'x'), cmd('MULTI'), cmd('EXEC'),
      cmd('MULTI'), cmd('NOSUCH'), cmd('SET', 'b', '1'), cmd('EXEC'), cmd('GET', 'b'), cmd('EXEC'), cmd('DISCARD'),
    ]);
    const [direct, proxied] = await bothWays(script, 13);
    expect(proxied).toBe(direct);
    expect(proxied).toContain('-EXECABORT Transaction discarded because of previous errors.\r\n');
  });

  it('binary keys and values', async () => {
    const key = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80]);
    const value = Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef, 0x0d, 0x0a]);
    const trigKey = Buffer.concat([Buffer.from('trig:'), key]);
    // KEYS of the script's own keys only: after the FLUSHALL the runtime writes its own keys (lease, running mark)
    // again, which `KEYS *` would list through it (docs/runtime.md: they are keys clients see).
    const script = Buffer.concat([cmd('SET', key, value), cmd('GET', key), cmd('SET', trigKey, value), cmd('GET', trigKey), cmd('KEYS', key), cmd('KEYS', 'trig:*')]);
    const [direct, proxied] = await bothWays(script, 6);
    expect(proxied).toContain(`*1\r\n$5\r\n${key.toString('latin1')}\r\n`);
    expect(proxied).toBe(direct);
    expect(proxied).toContain(`$7\r\n${value.toString('latin1')}\r\n`);
  });

  it('inline commands, as typed into telnet', async () => {
    const [direct, proxied] = await bothWays('PING\r\nSET trig:i "a b"\r\nGET trig:i\r\nECHO hello\r\n\r\nEXISTS trig:i nope\r\n', 5);
    expect(proxied).toBe(direct);
    expect(proxied).toBe('+PONG\r\n+OK\r\n$3\r\na b\r\n$5\r\nhello\r\n:1\r\n');
  });

  it('thousands of pipelined commands come back in order', async () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 3000; i++) parts.push(cmd('INCR', i % 3 === 0 ? 'trig:n' : 'n'), cmd('ECHO', String(i)));
    const [direct, proxied] = await bothWays(Buffer.concat(parts), 6000);
    expect(proxied).toBe(direct);
  });

  it('CLIENT REPLY OFF, SKIP and ON silence replies as redis-server does, on every path (markered, shared, transactions)', async () => {
    const script = Buffer.concat([
      cmd('CLIENT', 'REPLY', 'OFF'), cmd('SET', 'trig:a', '1'), cmd('PING', 'silenced'), cmd('MULTI'), cmd('INCR', 'n'), cmd('EXEC'),
      cmd('CLIENT', 'REPLY', 'ON'), cmd('PING', 'heard'),
      cmd('CLIENT', 'REPLY', 'SKIP'), cmd('GET', 'trig:a'), cmd('GET', 'n'),
      cmd('CLIENT', 'REPLY', 'SKIP'), cmd('CLIENT', 'REPLY', 'ON'), cmd('PING'),
    ]);
    const [direct, proxied] = await bothWays(script, 5);
    expect(direct).toBe('+OK\r\n$5\r\nheard\r\n$1\r\n1\r\n+OK\r\n+PONG\r\n');
    expect(proxied).toBe(direct);
  });

  it('pub/sub messages still arrive with CLIENT REPLY OFF (RESP2 and RESP3)', async () => {
    for (const prelude of [[], [cmd('HELLO', '3')]]) {
      const socket = await RespSocket.open(env.runtime.port);
      if (prelude.length > 0) {
        socket.write(prelude[0]!);
        await socket.read(1);
      }
      socket.send(['CLIENT', 'REPLY', 'OFF'], ['SUBSCRIBE', 'news']);
      const [confirmation] = await socket.read(1);
      expect(confirmation!.raw.toString()).toContain('subscribe');
      const publisher = await RespSocket.open(env.runtime.port);
      publisher.send(['PUBLISH', 'news', 'hi']);
      await publisher.read(1);
      publisher.close();
      expect((await socket.read(1))[0]!.raw.toString()).toMatch(/message\r\n\$4\r\nnews\r\n\$2\r\nhi\r\n$/);
      socket.close();
    }
  });
});

describe('per-connection state lives on the client’s own server connection', () => {
  it('SELECT, CLIENT SETNAME and CLIENT INFO are the connection’s own', async () => {
    const socket = await RespSocket.open(env.runtime.port);
    socket.send(['SELECT', '3'], ['SET', 'trig:db3', 'x'], ['CLIENT', 'SETNAME', 'mine'], ['CLIENT', 'GETNAME']);
    expect(await socket.readBytes(4)).toBe('+OK\r\n+OK\r\n+OK\r\n$4\r\nmine\r\n');
    const direct = await RespSocket.open(env.redis.port);
    direct.send(['SELECT', '3'], ['GET', 'trig:db3'], ['CLIENT', 'LIST']);
    const [, value, list] = await direct.read(3);
    expect(value!.raw.toString()).toBe('$1\r\nx\r\n');
    expect(list!.raw.toString()).toContain('name=mine');
    expect(env.host.keyspaceEvents.some((e) => e.db === 3 && e.key.toString() === 'trig:db3' && e.event === 'set')).toBe(true);
    socket.close();
    direct.close();
  });

  it('pub/sub in RESP2: messages, PING and the subscribed-state error, then back to normal', async () => {
    const subscriber = await RespSocket.open(env.runtime.port);
    subscriber.send(['SUBSCRIBE', 'ch1', 'ch2']);
    expect(await subscriber.readBytes(2)).toBe('*3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$3\r\nch2\r\n:2\r\n');
    const publisher = await RespSocket.open(env.runtime.port);
    publisher.send(['PUBLISH', 'ch2', 'hello']);
    expect(await publisher.readBytes(1)).toBe(':1\r\n');
    expect(await subscriber.readBytes(1)).toBe('*3\r\n$7\r\nmessage\r\n$3\r\nch2\r\n$5\r\nhello\r\n');
    subscriber.send(['PING'], ['SET', 'x', '1']);
    expect(await subscriber.readBytes(2)).toBe(
      "*2\r\n$4\r\npong\r\n$0\r\n\r\n-ERR Can't execute 'set': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    subscriber.send(['UNSUBSCRIBE'], ['SET', 'trig:after', '1'], ['PING']);
    // Channels come back in the server's dictionary order.
    expect(await subscriber.readBytes(4)).toMatch(/^\*3\r\n\$11\r\nunsubscribe\r\n\$3\r\nch[12]\r\n:1\r\n\*3\r\n\$11\r\nunsubscribe\r\n\$3\r\nch[12]\r\n:0\r\n\+OK\r\n\+PONG\r\n$/);
    expect(env.host.keyspaceEvents.some((e) => e.key.toString() === 'trig:after')).toBe(true);
    subscriber.close();
    publisher.close();
  });

  it('pub/sub in RESP3: pushes keep their place among replies', async () => {
    const socket = await RespSocket.open(env.runtime.port);
    socket.send(['HELLO', '3']);
    await socket.read(1);
    socket.send(['SUBSCRIBE', 'c3'], ['SET', 'trig:r3', '1'], ['PUBLISH', 'c3', 'm'], ['GET', 'trig:r3'], ['UNSUBSCRIBE', 'c3'], ['PING']);
    expect(await socket.readBytes(7)).toBe(
      '>3\r\n$9\r\nsubscribe\r\n$2\r\nc3\r\n:1\r\n+OK\r\n>3\r\n$7\r\nmessage\r\n$2\r\nc3\r\n$1\r\nm\r\n:1\r\n$1\r\n1\r\n>3\r\n$11\r\nunsubscribe\r\n$2\r\nc3\r\n:0\r\n+PONG\r\n',
    );
    socket.close();
  });

  it('BLPOP blocks without holding up other clients, and is served by another client’s LPUSH', async () => {
    const waiting = await RespSocket.open(env.runtime.port);
    waiting.send(['BLPOP', 'trig:queue', '5']);
    await new Promise((r) => setTimeout(r, 100));
    const other = await RespSocket.open(env.runtime.port);
    other.send(['SET', 'trig:meanwhile', '1'], ['LPUSH', 'trig:queue', 'job']);
    expect(await other.readBytes(2)).toBe('+OK\r\n:1\r\n');
    expect(await waiting.readBytes(1)).toBe('*2\r\n$10\r\ntrig:queue\r\n$3\r\njob\r\n');
    // Served at once: an ordinary command, its events settled before the reply.
    other.send(['RPUSH', 'trig:queue', 'a'], ['BLPOP', 'trig:queue', '1'], ['BLPOP', 'trig:none', '0.05']);
    expect(await other.readBytes(3)).toBe(':1\r\n*2\r\n$10\r\ntrig:queue\r\n$1\r\na\r\n*-1\r\n');
    waiting.close();
    other.close();
  });

  it('MONITOR streams what the server sees; QUIT replies and closes', async () => {
    const monitor = await RespSocket.open(env.runtime.port);
    monitor.send(['MONITOR']);
    expect(await monitor.readBytes(1)).toBe('+OK\r\n');
    const other = await RespSocket.open(env.runtime.port);
    other.send(['SET', 'trig:mon', 'v'], ['QUIT']);
    expect(await other.readBytes(2)).toBe('+OK\r\n+OK\r\n');
    const lines: string[] = [];
    while (!lines.some((l) => l.includes('"trig:mon"'))) lines.push((await monitor.readBytes(1)).toString());
    expect(lines.find((l) => l.includes('"trig:mon"'))).toMatch(/^\+\d+\.\d+ \[0 127\.0\.0\.1:\d+\] "SET" "trig:mon" "v"\r\n$/);
    await new Promise((r) => setTimeout(r, 20));
    expect(other.isClosed).toBe(true);
    monitor.close();
  });

  it('COMMAND and INFO pass through (they describe the server, without the TF commands)', async () => {
    const socket = await RespSocket.open(env.runtime.port);
    socket.send(['COMMAND', 'COUNT'], ['INFO', 'server'], ['COMMAND', 'INFO', 'tfcall']);
    const [count, info, tfcall] = await socket.read(3);
    expect(count!.value.type).toBe('integer');
    expect(info!.raw.toString()).toContain('redis_version:');
    expect(tfcall!.raw.toString()).toBe('*1\r\n$-1\r\n');
    socket.close();
  });

  it('WATCH: a change by another client makes EXEC return nil', async () => {
    const a = await RespSocket.open(env.runtime.port);
    const b = await RespSocket.open(env.runtime.port);
    a.send(['WATCH', 'trig:w'], ['MULTI'], ['SET', 'trig:w', 'a']);
    expect(await a.readBytes(3)).toBe('+OK\r\n+OK\r\n+QUEUED\r\n');
    b.send(['SET', 'trig:w', 'b']);
    await b.read(1);
    a.send(['EXEC'], ['GET', 'trig:w']);
    expect(await a.readBytes(2)).toBe('*-1\r\n$1\r\nb\r\n');
    a.close();
    b.close();
  });
});

describe('clients', () => {
  for (const RESP of [2, 3] as const) {
    it(`node-redis RESP${RESP}: commands, transactions, pub/sub, blocking`, async () => {
      const client = createClient({ url: env.runtime.url, RESP });
      const blocker = client.duplicate();
      const sub = client.duplicate();
      for (const c of [client, blocker, sub]) {
        c.on('error', () => undefined);
        await c.connect();
      }
      await client.hSet('trig:user', { name: 'ann', age: '3' });
      expect(await client.hGetAll('trig:user')).toEqual({ name: 'ann', age: '3' });
      expect(await client.get('nope')).toBeNull();
      await expect(client.sendCommand(['LPUSH', 'trig:user', 'x'])).rejects.toThrow('WRONGTYPE Operation against a key holding the wrong kind of value');
      expect(await client.multi().set('trig:m', '1').incr('trig:m').get('trig:m').exec()).toEqual(['OK', 2, '2']);
      const messages: string[] = [];
      await sub.subscribe('news', (message) => messages.push(message));
      await client.publish('news', 'hi');
      const popped = blocker.blPop('trig:jobs', 5);
      await new Promise((r) => setTimeout(r, 50));
      await client.rPush('trig:jobs', 'j1');
      expect(await popped).toEqual({ key: 'trig:jobs', element: 'j1' });
      await new Promise((r) => setTimeout(r, 20));
      expect(messages).toEqual(['hi']);
      await sub.unsubscribe('news');
      const pipeline = client.multi();
      for (let i = 0; i < 1000; i++) pipeline.incr('trig:count');
      const results = await pipeline.execAsPipeline();
      expect(results.at(-1)).toBe(1000);
      for (const c of [client, blocker, sub]) await c.close();
    });
  }

  it('redis-cli', async () => {
    // Asynchronously: the runtime serves from this very process.
    const cli = (args: string[], input?: string) =>
      new Promise<string>((resolve, reject) => {
        const child = execFile('redis-cli', ['-p', String(env.runtime.port), ...args], { encoding: 'utf8' }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
        if (input !== undefined) child.stdin!.end(input);
      });
    expect(await cli(['SET', 'trig:cli', 'v'])).toBe('OK\n');
    expect(await cli(['GET', 'trig:cli'])).toBe('v\n');
    expect(await cli(['--no-raw', 'GET', 'missing'])).toBe('(nil)\n');
    expect(await cli(['-3', 'HSET', 'trig:h3', 'f', 'v'])).toBe('1\n');
    expect(await cli([], 'SET trig:piped 1\nGET trig:piped\n')).toBe('OK\n1\n');
  });
});
