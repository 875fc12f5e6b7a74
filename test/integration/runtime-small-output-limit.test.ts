/**
 * A redis-server that limits its normal clients' output buffers (`client-output-buffer-limit normal 100kb 100kb
 * 0`, a common hardening), which holds the runtime's own connections too. Before 2026-12-03 the runtime read its
 * command table with one `COMMAND`, whose reply (~90 KB of RESP, ~100 KB of output buffer on Redis 7.0) outgrew
 * the limit: redis-server closed the control connection and the runtime could not start at all, failing with
 * "connection to redis-server closed". Then: the library store's one HGETALL outgrew it once a library larger
 * than the limit was loaded (the next runtime could not start), and the whole CLIENT LIST asked for the runtime's
 * own addresses closed a client's SLOWLOG GET once a few hundred clients were connected.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCommandReply } from '../../src/runtime/command-table-read.js';
import { AsyncConnectionPool } from '../../src/runtime/library-host/async-connection-pool.js';
import { readHashInPieces, VALUE_PIECE_BYTES } from '../../src/runtime/library-host/hash-in-pieces.js';
import { RedisConnection } from '../../src/runtime/server/redis-connection.js';
import { SyncRedis } from '../../src/runtime/sync-redis/sync-redis.js';
import { textOf, type RespValue } from '../../src/runtime/resp/types.js';
import { findFreePorts } from '../../bench/support/redis-server-process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';

/** Picked in beforeAll: the runtime is started again on its port, and each server must be the test's own. */
let REDIS_PORT: number;
let RUNTIME_PORT: number;
let UNLIMITED_REDIS_PORT: number;
const LIMIT = 'normal 100kb 100kb 0';

let redis: RedisServer;
let runtime: StartedRuntime | undefined;

beforeAll(async () => {
  [REDIS_PORT, RUNTIME_PORT, UNLIMITED_REDIS_PORT] = (await findFreePorts(3)) as [number, number, number];
  redis = await startRedisServer({ port: REDIS_PORT, extraArgs: ['--client-output-buffer-limit', LIMIT] });
});

afterAll(async () => {
  await runtime?.close();
  await redis?.stop();
});

describe(`a redis-server with client-output-buffer-limit ${LIMIT}`, () => {
  it('the runtime starts (with its library host) and serves, its command table read in pieces', { timeout: 20_000 }, async () => {
    runtime = await startRuntime(redis, { port: RUNTIME_PORT });
    expect(await RespSocket.call(RUNTIME_PORT, 'PING')).toBe('+PONG\r\n');
    // The table is there: a command's keys route it (SET), and the TF commands, which need it, answer.
    expect(await RespSocket.call(RUNTIME_PORT, 'SET', 'small-limit:k', 'v')).toBe('+OK\r\n');
    expect(await RespSocket.call(RUNTIME_PORT, 'TFUNCTION', 'LIST')).toBe('*0\r\n');
    // The library host judges a library's calls by the same table: a write runs, a no-writes function's is refused.
    const code = "#!js api_version=1.0 name=smalllimit\nredis.registerFunction('put', (c, k) => c.call('set', k, 'lib'));\nredis.registerFunction('ro', (c, k) => c.call('set', k, 'ro'), { flags: [redis.functionFlags.NO_WRITES] });";
    expect(await RespSocket.call(RUNTIME_PORT, 'TFUNCTION', 'LOAD', code)).toBe('+OK\r\n');
    expect(await RespSocket.call(RUNTIME_PORT, 'TFCALL', 'smalllimit.put', '1', 'small-limit:lib')).toBe('$2\r\nOK\r\n');
    expect(await RespSocket.call(RUNTIME_PORT, 'GET', 'small-limit:lib')).toBe('$3\r\nlib\r\n');
    expect(await RespSocket.call(RUNTIME_PORT, 'TFCALL', 'smalllimit.ro', '1', 'small-limit:lib')).toMatch(/^-ERR .*Write command 'set' was called while write is not allowed/);
  });
});

/** Over the limit, under redis-server's default proto-max-bulk-len. */
const BIG = 'x'.repeat(300 * 1024);

async function setBig(key: string): Promise<void> {
  const direct = await RespSocket.open(REDIS_PORT);
  direct.send(['SET', key, BIG]);
  expect(await direct.readBytes(1)).toBe('+OK\r\n');
  direct.close();
}

describe(`a reply over client-output-buffer-limit ${LIMIT}`, () => {
  it('closes the client that asked for it through the runtime, as redis-server closes a direct one, and the runtime serves the others', { timeout: 20_000 }, async () => {
    expect(runtime, 'started by the test before').toBeDefined();
    await setBig('small-limit:big');
    const direct = await RespSocket.open(REDIS_PORT);
    direct.send(['GET', 'small-limit:big']);
    await expect(direct.read(1)).rejects.toThrow('connection closed after 0 of 1 values');

    const other = await RespSocket.open(RUNTIME_PORT);
    other.send(['SET', 'small-limit:other', 'kept']);
    expect(await other.readBytes(1)).toBe('+OK\r\n');
    const asker = await RespSocket.open(RUNTIME_PORT);
    asker.send(['GET', 'small-limit:big']);
    await expect(asker.read(1)).rejects.toThrow('connection closed after 0 of 1 values');

    other.send(['GET', 'small-limit:other']);
    expect(await other.readBytes(1)).toBe('$4\r\nkept\r\n');
    other.close();
    expect(await RespSocket.call(RUNTIME_PORT, 'PING')).toBe('+PONG\r\n');
  });

  it("on one of the runtime's own connections, fails naming the server, the command and the limit", async () => {
    await setBig('small-limit:own');
    const where = `127.0.0.1:${REDIS_PORT}`;
    const connection = await RedisConnection.open({ host: '127.0.0.1', port: REDIS_PORT, db: 0, where }, 'test');
    try {
      await expect(connection.call(['GET', 'small-limit:own'])).rejects.toThrow(
        `redis-server at ${where} closed the runtime's test connection before answering GET: a reply larger than its client-output-buffer-limit for normal clients closes the connection`,
      );
    } finally {
      await connection.close();
    }
    // The library host's connections, blocking (client.call) and not (client.callAsync), say the same.
    const sync = await SyncRedis.create(redis.url);
    try {
      expect(() => sync.call(['GET', 'small-limit:own'])).toThrow(`redis-server at ${where} closed the runtime's sync connection before answering GET: a reply larger than its client-output-buffer-limit`);
    } finally {
      await sync.close();
    }
    const pool = new AsyncConnectionPool(redis.url);
    try {
      await expect(pool.call(['GET', 'small-limit:own'], 0)).rejects.toThrow(`redis-server at ${where} closed the runtime's async connection before answering GET: a reply larger than its client-output-buffer-limit`);
    } finally {
      pool.close();
    }
  });
});

describe(`many clients on a server with client-output-buffer-limit ${LIMIT}`, () => {
  it("SLOWLOG GET through the runtime leaves out the runtime's own entries, its CLIENT LIST asking only for the runtime's connections", { timeout: 30_000 }, async () => {
    expect(runtime, 'started by the test before').toBeDefined();
    // ~300 bytes a client in CLIENT LIST: 450 make it ~135 KB, over the limit.
    const others = await Promise.all(Array.from({ length: 450 }, () => RespSocket.open(REDIS_PORT)));
    try {
      expect(await RespSocket.call(REDIS_PORT, 'CONFIG', 'SET', 'slowlog-log-slower-than', '0')).toBe('+OK\r\n');
      const client = await RespSocket.open(RUNTIME_PORT);
      client.send(['CLIENT', 'SETNAME', 'slowlogged'], ['SET', 'small-limit:slow', 'v'], ['SLOWLOG', 'GET', '50']);
      const [, , slowlog] = await client.read(3);
      client.close();
      // Each entry: id, time, duration, arguments, client address, client name.
      const names = (slowlog!.value as { value: { value: RespValue[] }[] }).value.map((entry) => textOf(entry.value[5]!));
      expect(names).toContain('slowlogged');
      expect(names.filter((name) => name?.startsWith('writebehind-runtime'))).toEqual([]);
    } finally {
      for (const other of others) other.close();
      await RespSocket.call(REDIS_PORT, 'CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    }
  });
});

describe(`a library larger than client-output-buffer-limit ${LIMIT}`, () => {
  it('is loaded, and the next runtime restores it from the store, read in pieces', { timeout: 30_000 }, async () => {
    expect(runtime, 'started by the test before').toBeDefined();
    // ~190 KB, as the writebehind bundle: the store's value is its JSON (code, config, owner).
    const padding = `// ${'p'.repeat(190 * 1024)}`;
    const code = `#!js api_version=1.0 name=biglib\n${padding}\nredis.registerFunction('size', () => ${padding.length});`;
    expect(await RespSocket.call(RUNTIME_PORT, 'TFUNCTION', 'LOAD', 'REPLACE', code)).toBe('+OK\r\n');
    await runtime!.close();
    runtime = await startRuntime(redis, { port: RUNTIME_PORT });
    expect(await RespSocket.call(RUNTIME_PORT, 'TFCALL', 'biglib.size', '0')).toBe(`:${padding.length}\r\n`);
    expect(await RespSocket.call(RUNTIME_PORT, 'TFUNCTION', 'DELETE', 'biglib')).toBe('+OK\r\n');
  });
});

describe('the command table read in pieces (COMMAND LIST, then COMMAND INFO a few at a time)', () => {
  it("has exactly the entries of one COMMAND reply, each with its subcommands, in RESP2 and RESP3", { timeout: 20_000 }, async () => {
    const unlimited = await startRedisServer({ port: UNLIMITED_REDIS_PORT });
    const address = { host: '127.0.0.1', port: UNLIMITED_REDIS_PORT, db: 0, where: `127.0.0.1:${UNLIMITED_REDIS_PORT}` };
    const connection = await RedisConnection.open(address, 'test');
    try {
      const whole = byName(await connection.call(['COMMAND']));
      const sent: string[][] = [];
      const pieces = byName(await readCommandReply((command) => (sent.push([...command]), connection.send(command))));
      expect(whole.size).toBeGreaterThan(200);
      expect([...pieces.keys()].sort()).toEqual([...whole.keys()].sort());
      for (const [name, entry] of whole) expect(pieces.get(name), name).toEqual(entry);
      // CONFIG's entry carries CONFIG GET's and the others (the 10th field).
      const config = whole.get('config') as { value: RespValue[] };
      expect(config.value[9]).toMatchObject({ type: 'array', value: expect.arrayContaining([expect.objectContaining({ type: 'array' })]) });
      expect(sent[0]).toEqual(['COMMAND', 'LIST']);
      expect(sent.slice(1).every((command) => command[1] === 'INFO' && command.length <= 10)).toBe(true);

      await connection.call(['HELLO', '3']);
      const whole3 = byName(await connection.call(['COMMAND']));
      const pieces3 = byName(await readCommandReply((command) => connection.send(command)));
      for (const [name, entry] of whole3) expect(pieces3.get(name), name).toEqual(entry);
      expect(pieces3.size).toBe(whole3.size);
    } finally {
      await connection.close();
      await unlimited.stop();
    }
  });
});

describe("the library store's hashes read in pieces (HKEYS, HSTRLEN, HMGET, long values in slices)", () => {
  it('gives every field and value HGETALL gives, byte for byte, slices at their edges included', { timeout: 20_000 }, async () => {
    const unlimited = await startRedisServer({ port: UNLIMITED_REDIS_PORT });
    const sync = await SyncRedis.create(unlimited.url);
    try {
      const sizes = [0, 1, VALUE_PIECE_BYTES - 1, VALUE_PIECE_BYTES, VALUE_PIECE_BYTES + 1, 3 * VALUE_PIECE_BYTES, 190 * 1024 + 7];
      const fields: Buffer[] = [];
      sizes.forEach((size, i) => fields.push(Buffer.from(`long-${i}`), randomBytes(size)));
      for (let i = 0; i < 500; i++) fields.push(Buffer.from(`short\n${i}`), Buffer.from(`${i}-0`));
      expect(sync.call(['HSET', 'pieces:hash', ...fields])).toEqual({ type: 'integer', value: BigInt(fields.length / 2) });
      const whole = sync.call(['HGETALL', 'pieces:hash']) as { type: 'map'; value: [RespValue, RespValue][] };
      const expected = new Map(whole.value.map(([k, v]) => [(k as { value: Buffer }).value.toString('latin1'), (v as { value: Buffer }).value.toString('hex')]));
      const read = readHashInPieces((commands) => sync.batch(commands), 'pieces:hash');
      expect(new Map(read.map(([k, v]) => [k.toString('latin1'), v.toString('hex')]))).toEqual(expected);
      expect(read).toHaveLength(sizes.length + 500);
      expect(readHashInPieces((commands) => sync.batch(commands), 'pieces:none')).toEqual([]);
    } finally {
      await sync.close();
      await unlimited.stop();
    }
  });
});

/**
 * A COMMAND reply's entries by their name, each entry's subcommands (its 10th field) sorted by name: the server
 * lists them in its dictionary's order, which differs between COMMAND and COMMAND INFO (CommandTable keys them).
 */
function byName(reply: RespValue): Map<string, RespValue> {
  if (reply.type !== 'array' && reply.type !== 'set') throw new Error(`not a COMMAND reply: ${reply.type}`);
  return new Map(reply.value.map((entry) => [nameOf(entry), sortedSubcommands(entry)]));
}

function nameOf(entry: RespValue): string {
  return entry.type === 'array' ? (textOf(entry.value[0]!) ?? '') : '';
}

function sortedSubcommands(entry: RespValue): RespValue {
  if (entry.type !== 'array' || entry.value.length < 10) return entry;
  const subcommands = entry.value[9]!;
  if (subcommands.type !== 'array' && subcommands.type !== 'set') return entry;
  const sorted = [...subcommands.value].map(sortedSubcommands).sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  return { type: 'array', value: [...entry.value.slice(0, 9), { ...subcommands, value: sorted }, ...entry.value.slice(10)] };
}
