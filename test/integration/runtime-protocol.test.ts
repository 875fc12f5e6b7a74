/**
 * The client protocol as redis-server reads it (networking.c of Redis 7.0): the same bytes sent straight to the
 * server and through the runtime get the same replies, the same protocol errors, and the connection is closed
 * after a protocol error in both cases. Also the replies and requests that crashed or wedged the runtime when
 * Redis's own Tcl suite ran through it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useRuntimeWithTestHost } from '../helpers/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { exchange as sendCase } from '../../bench/resp-fuzz/exchange.js';

const env = useRuntimeWithTestHost();

/** What `bytes` gets back on a fresh connection (up to `replies` values), and whether the connection then closed. */
async function exchange(port: number, bytes: Buffer | string, replies: number): Promise<{ replies: string; closed: boolean }> {
  const socket = await RespSocket.open(port);
  socket.write(bytes);
  const text = await socket.readBytes(replies, 10_000);
  const closed = await closesSoon(socket);
  socket.close();
  return { replies: text, closed };
}

async function closesSoon(socket: RespSocket): Promise<boolean> {
  for (let i = 0; i < 40 && !socket.isClosed; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  return socket.isClosed;
}

async function bothWays(bytes: Buffer | string, replies: number) {
  return { direct: await exchange(env.redis.port, bytes, replies), proxied: await exchange(env.runtime.port, bytes, replies) };
}

async function expectRuntimeAlive(): Promise<void> {
  const socket = await RespSocket.open(env.runtime.port);
  socket.send(['PING']);
  expect(await socket.readBytes(1)).toBe('+PONG\r\n');
  socket.close();
}

describe('protocol errors: Redis’s texts, earlier commands answered, then the connection closed', () => {
  const cases: [string, string, string][] = [
    ['an out-of-range multibulk length', '*3000000000\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
    ['a non-numeric multibulk length', '*abc\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
    ['a multibulk not followed by bulks', '*1\r\nfoo\r\n', "-ERR Protocol error: expected '$', got 'f'\r\n"],
    ['a negative bulk length', '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    ['a bulk longer than proto-max-bulk-len', '*1\r\n$2000000000\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    ['a non-numeric bulk length', '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    ['unbalanced quotes in an inline command', 'set """test-key""" test-value\r\n', '-ERR Protocol error: unbalanced quotes in request\r\n'],
    ['an inline request over 64 KB', 'x'.repeat(70 * 1024), '-ERR Protocol error: too big inline request\r\n'],
    ['a multibulk count string over 64 KB', `*${'1'.repeat(70 * 1024)}`, '-ERR Protocol error: too big mbulk count string\r\n'],
    ['a bulk count string over 64 KB', `*1\r\n$${'1'.repeat(70 * 1024)}`, '-ERR Protocol error: too big bulk count string\r\n'],
  ];
  for (const [title, bytes, expected] of cases) {
    it(title, async () => {
      const { direct, proxied } = await bothWays(`PING\r\n${bytes}`, 2);
      expect(direct).toEqual({ replies: `+PONG\r\n${expected}`, closed: true });
      expect(proxied).toEqual(direct);
    });
  }
});

describe('a protocol error right after a RESP2 (un)subscribe (found by the fuzz’s pubsub mode)', () => {
  const cases: [string, string, string][] = [
    ['PUNSUBSCRIBE of no pattern, then unbalanced quotes', '*1\r\n$12\r\nPUNSUBSCRIBE\r\nECHO "a\r\n', '*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n-ERR Protocol error: unbalanced quotes in request\r\n'],
    ['SUBSCRIBE, then a bad multibulk length', 'SUBSCRIBE fz:c1\r\n*abc\r\n', '*3\r\n$9\r\nsubscribe\r\n$5\r\nfz:c1\r\n:1\r\n-ERR Protocol error: invalid multibulk length\r\n'],
  ];
  for (const [title, bytes, expected] of cases) {
    it(`${title}: the confirmation is written before the error`, async () => {
      const { direct, proxied } = await bothWays(bytes, 2);
      expect(direct).toEqual({ replies: expected, closed: true });
      expect(proxied).toEqual(direct);
    });
  }
});

describe('an inline line over 64 KB whose newline came before 64 KB without it were read (found by the fuzz’s large mode)', () => {
  it('is run, as redis-server runs it, though redis-server behind the runtime would read the line its own way', async () => {
    // 64 KB without a newline is not yet too big; the rest of the line comes in a second write.
    const line = `ECHO ${'x'.repeat(100_000)}\r\n`;
    const writes = [line.slice(0, 64 * 1024), `${line.slice(64 * 1024)}PING\r\n`].map((part, i) => ({ bytes: Buffer.from(part, 'latin1'), delayMs: i === 0 ? 0 : 50 }));
    const fromServer = await sendCase(env.redis.port, writes);
    const fromRuntime = await sendCase(env.runtime.port, writes, fromServer);
    const seen = (o: typeof fromServer) => ({ replies: o.bytes.toString('latin1').replace(/x{100000}/, '<100000 x>'), closed: o.closed, hung: o.hung });
    expect(seen(fromServer)).toEqual({ replies: '$100000\r\n<100000 x>\r\n+PONG\r\n', closed: false, hung: false });
    expect(seen(fromRuntime)).toEqual(seen(fromServer));
  });
});

/** Sends `bytes`, then keeps writing: resolves true once a write fails (the peer closed its side for reading too). */
function writesFailAfter(port: number, bytes: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const deadline = Date.now() + 5000;
    socket.on('error', () => resolve(true));
    socket.on('close', () => resolve(true));
    socket.on('connect', () => {
      socket.write(bytes);
      const timer = setInterval(() => {
        if (Date.now() > deadline) {
          clearInterval(timer);
          socket.destroy();
          resolve(false);
        } else if (!socket.destroyed) {
          socket.write('payload'.repeat(100));
        }
      }, 20);
      socket.on('close', () => clearInterval(timer));
    });
  });
}

describe('after a protocol error the connection is closed both ways (Tcl: protocol desync regression)', () => {
  for (const start of ['\x00', '*\x00', '$\x00']) {
    it(`${JSON.stringify(start)} followed by a never-ending line`, async () => {
      expect(await writesFailAfter(env.redis.port, start + 'payload'.repeat(10_000))).toBe(true);
      expect(await writesFailAfter(env.runtime.port, start + 'payload'.repeat(10_000))).toBe(true);
    });
  }

  // Found by bench/resp-fuzz.ts: a client still writing after QUIT got a reset from redis-server (losing the +OK it
  // had not read yet), and a half-closed socket that kept reading from the runtime.
  it('QUIT, then more writes', async () => {
    expect(await writesFailAfter(env.redis.port, 'QUIT\r\n')).toBe(true);
    expect(await writesFailAfter(env.runtime.port, 'QUIT\r\n')).toBe(true);
  });
});

describe('requests redis-server ignores or splits its own way', () => {
  it('a negative or zero multibulk count is ignored, not answered (replies do not shift)', async () => {
    const { direct, proxied } = await bothWays('*-10\r\n*0\r\nPING\r\n*1\r\n$4\r\nPING\r\n', 2);
    expect(direct).toEqual({ replies: '+PONG\r\n+PONG\r\n', closed: false });
    expect(proxied).toEqual(direct);
    // Counted as a command awaiting a reply, it held the lock for as long as its connection lived.
    const ignoring = await RespSocket.open(env.runtime.port);
    ignoring.write('*-10\r\nPING\r\n');
    expect(await ignoring.readBytes(1)).toBe('+PONG\r\n');
    const other = await RespSocket.open(env.runtime.port);
    other.send(['SET', 'trig:after', '1']);
    expect(await other.readBytes(1, 3000)).toBe('+OK\r\n');
    other.close();
    ignoring.close();
  });

  it('inline commands with quotes and escapes, and blank lines', async () => {
    const bytes = '\r\n\n  SET "trig:a b" \'it\\\'s\'\r\nGET "trig:a b"\nGET "\\x41\\n"\r\nECHO "tab\\there"\r\n';
    const { direct, proxied } = await bothWays(bytes, 4);
    expect(direct.replies).toBe("+OK\r\n$4\r\nit's\r\n$-1\r\n$8\r\ntab\there\r\n");
    expect(proxied).toEqual(direct);
  });
});

describe('a NUL before the end of an inline line or a count line (found by bench/resp-fuzz.ts)', () => {
  it('redis-server waits for more bytes (it finds the line end with strchr), answering nothing, and so does the runtime', async () => {
    for (const stalled of ['ECHO a\0b\r\nPING\r\n', '*1\0\r\n$4\r\nPING\r\n', '*1\r\n$4\0\r\nPING\r\n']) {
      const writes = [{ bytes: Buffer.from(`PING\r\n${stalled}`, 'latin1'), delayMs: 0 }];
      const direct = await sendCase(env.redis.port, writes);
      const proxied = await sendCase(env.runtime.port, writes, direct);
      const seen = (o: typeof direct) => ({ stalled, replies: o.bytes.toString('latin1'), closed: o.closed });
      expect(seen(direct)).toEqual({ stalled, replies: '+PONG\r\n', closed: false });
      expect(seen(proxied)).toEqual(seen(direct));
    }
  });
});

describe('what crashed the runtime', () => {
  it('a reply nested thousands deep is forwarded whole', async () => {
    const script = 'local a={} local b={a} a[1]=b return a';
    const bytes = `*3\r\n$4\r\nEVAL\r\n$${script.length}\r\n${script}\r\n$1\r\n0\r\n`;
    const direct = await exchange(env.redis.port, bytes, 1);
    expect(direct.replies.length).toBeGreaterThan(30_000);
    const proxied = await exchange(env.runtime.port, bytes, 1);
    expect(proxied.replies).toBe(direct.replies);
    await expectRuntimeAlive();
  });

  it("SYNC passes through as a byte pipe: redis-cli --rdb receives the server's RDB through the runtime", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'wb-rdb-')), 'dump.rdb');
    await promisify(execFile)('redis-cli', ['-p', String(env.runtime.port), '--rdb', file], { timeout: 10_000 });
    // A whole RDB: the magic, and the EOF opcode (0xff) with its 8-byte checksum at the end.
    const rdb = readFileSync(file);
    expect(rdb.subarray(0, 5).toString('latin1')).toBe('REDIS');
    expect(rdb[rdb.length - 9]).toBe(0xff);
    await expectRuntimeAlive();
  });
});
