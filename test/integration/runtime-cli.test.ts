/**
 * `writebehind runtime` as a user starts it: the built CLI in its own process prints where it listens, serves
 * redis-cli, and shuts down cleanly on SIGTERM; bad options fail before anything starts.
 */
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { runRuntime } from '../../src/cli/actions/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { Runtime } from '../../src/runtime/runtime.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/index.js', import.meta.url));
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

const run = (file: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { encoding: 'utf8' }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });

describe('writebehind runtime', () => {
  it('prints where it listens, serves redis-cli and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'runtime', '--port', '0', '--redis', redis.url, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /listening on (redis:\/\/127\.0\.0\.1:(\d+))/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stdout}`)));
    });
    const port = new URL(url).port;
    expect((await run('redis-cli', ['-p', port, 'SET', 'k', 'v'])).stdout).toBe('OK\n');
    expect((await run('redis-cli', ['-p', port, 'TFUNCTION', 'LIST'])).stdout).toBe('\n');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  // README: LOG_LEVEL sets how much every command logs ("at trace the runtime logs what its replication pipes
  // do"); --log-level, when given, wins. The runtime's --log-level defaulted to info whatever LOG_LEVEL said.
  it.each([
    { env: 'warn', args: [], info: false },
    { env: 'warn', args: ['--log-level', 'info'], info: true },
  ])('LOG_LEVEL=$env with $args: the info line "RedisGears runtime listening" logged: $info', async ({ env, args, info }) => {
    const child = spawn(process.execPath, [CLI, 'runtime', '--port', '0', '--redis', redis.url, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: env } });
    let stdout = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('"msg":"RedisGears runtime listening"') || (!info && /listening on redis:/.test(stdout))) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stdout}`)));
    });
    // The JSON line comes right after the printed one: give it a moment to show when it should not.
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout.includes('"msg":"RedisGears runtime listening"'), stdout).toBe(info);
  });

  // The runtime's --redis is the server behind it and does not come from REDIS_URL (which names, for the
  // other commands, the runtime itself): its hint must not send the user to REDIS_URL.
  it('a refused backing server: the hint names --redis only, not REDIS_URL, which the runtime does not read', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', () => resolve()));
    const port = (free.address() as AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const result = await run(process.execPath, [CLI, 'runtime', '--port', '0', '--redis', `redis://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ECONNREFUSED');
    expect(result.stderr).toContain('hint: start redis-server there (the runtime fronts a plain redis-server), or fix --redis and its password');
  });

  it('exits non-zero when it loses redis-server (triggers could no longer fire)', async () => {
    const own = await startRedisServer();
    const child = spawn(process.execPath, [CLI, 'runtime', '--port', '0', '--redis', own.url, '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await own.kill();
    expect(await exited).toBe(1);
    rmSync(own.dir, { recursive: true, force: true }); // (stop() after kill() would wait for an exit already seen)
  });

  it('fronts redis-server through its Unix socket (--redis unix://…): commands pass, keyspace and stream triggers fire', async () => {
    const socket = join(tmpdir(), `wb-runtime-${process.pid}-${Date.now()}.sock`);
    const own = await startRedisServer({ extraArgs: ['--unixsocket', socket, '--unixsocketperm', '700'] });
    const runtime = await runRuntime({ port: 0, redis: `unix://${socket}`, logLevel: 'silent' }, () => undefined);
    const client = createClient({ url: runtime.url });
    await client.connect();
    try {
      const library = [
        "#!js api_version=1.0 name=unixlib",
        "redis.registerKeySpaceTrigger('k', 'u:', (c, e) => { c.call('xadd', 'ustream:1', '*', 'key', e.key); });",
        "redis.registerStreamTrigger('s', 'ustream:', (c, d) => { c.call('incr', 'delivered'); });",
        "redis.registerFunction('get', (c, key) => c.call('get', key));",
      ].join('\n');
      await client.sendCommand(['TFUNCTION', 'LOAD', library]);
      await client.hSet('u:1', 'a', '1');
      await client.hSet('u:2', 'a', '2');
      expect(await client.xLen('ustream:1')).toBe(2);
      expect(await client.get('delivered')).toBe('2');
      // The runtime's own connections are on the socket: the server lists them with its path as address.
      expect(String(await client.sendCommand(['CLIENT', 'LIST']))).toContain(`addr=${socket}`);
      // A client's upstream connection starts as a new one would (the id was learnt before, see upstream-link.ts).
      expect(String(await client.sendCommand(['CLIENT', 'INFO']))).toMatch(/ name= .* db=0 .* user=default /);
      // Which needs that id: a WATCHed key changed by another client fails an EXEC holding a TFCALL.
      const watcher = createClient({ url: runtime.url });
      await watcher.connect();
      await watcher.sendCommand(['WATCH', 'w']);
      await watcher.sendCommand(['MULTI']);
      expect(await watcher.sendCommand(['TFCALL', 'unixlib.get', '1', 'w'])).toBe('QUEUED');
      await client.set('w', 'changed');
      expect(await watcher.sendCommand(['EXEC'])).toBeNull();
      await watcher.quit();
    } finally {
      await client.quit();
      await runtime.close();
      await own.stop();
    }
  });

  it('refuses bad options with a configuration error (exit code 2)', async () => {
    const result = await run(process.execPath, [CLI, 'runtime', '--port', '70000', '--redis', redis.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--port');
    await expect(runRuntime({ redis: 'http://nope' }, () => undefined)).rejects.toThrow('--redis: Redis URL must start with redis:// or unix:// (got http://)');
    await expect(runRuntime({ redis: 'unix://:secret@localhost/' }, () => undefined)).rejects.toThrow("--redis: Redis URL unix:// needs the socket's path, as unix:///var/run/redis/redis.sock (got unix://:***@localhost/)");
  });

  it('protected mode: refuses a non-loopback interface in front of a server that needs no password, naming the fix', async () => {
    const result = await run(process.execPath, [CLI, 'runtime', '--host', '0.0.0.0', '--port', '0', '--redis', redis.url, '--log-level', 'silent']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('refusing to listen on 0.0.0.0');
    expect(result.stderr).toContain('requirepass');
    expect(result.stderr).toContain('--protected-mode no');
    const opened = await runRuntime({ host: '0.0.0.0', port: 0, redis: redis.url, logLevel: 'silent', protectedMode: 'no' }, () => undefined);
    await opened.close();
  });

  it('protected mode: listens on a non-loopback interface when the server requires a password', async () => {
    const own = await startRedisServer();
    try {
      const setup = await RespSocket.open(own.port);
      setup.send(['CONFIG', 'SET', 'requirepass', 's3cret']);
      await setup.read(1);
      setup.close();
      const url = `redis://:s3cret@127.0.0.1:${own.port}`;
      const runtime = await runRuntime({ host: '0.0.0.0', port: 0, redis: url, logLevel: 'silent' }, () => undefined);
      const client = await RespSocket.open(runtime.port);
      client.send(['PING']);
      expect(await client.readBytes(1)).toMatch(/^-NOAUTH/);
      client.close();
      await runtime.close();
    } finally {
      await own.stop();
    }
  });

  it('--memory-limit sets each isolate\'s v8-maxmemory: 40 MB of doubles fails at 16 MB, passes at the default', async () => {
    const code = "#!js api_version=1.0 name=mem\nredis.registerFunction('f', () => new Array(5e6).fill(1.5).length);";
    for (const [limit, expected] of [[undefined, /^:5000000/], ['16', /^-/]] as const) {
      // A long lock timeout: filling the array takes ~0.5 s on a loaded machine, and only memory may stop it here.
      const runtime = await runRuntime({ port: 0, redis: redis.url, logLevel: 'silent', lockTimeout: '10000', ...(limit ? { memoryLimit: limit } : {}) }, () => undefined);
      try {
        const client = await RespSocket.open(runtime.port);
        client.send(['TFUNCTION', 'LOAD', 'REPLACE', code]);
        await client.read(1);
        client.send(['TFCALL', 'mem.f', '0']);
        expect(await client.readBytes(1)).toMatch(expected);
        client.close();
      } finally {
        await runtime.close();
      }
    }
  });
});

describe('Runtime.start against a server it cannot use', () => {
  it('a refused password: rejects, and leaves no connection of its own open on the server', async () => {
    const own = await startRedisServer();
    try {
      const setup = await RespSocket.open(own.port);
      setup.send(['CONFIG', 'SET', 'requirepass', 's3cret']);
      await setup.read(1);
      await expect(Runtime.start({ redisUrl: `redis://:wrong@127.0.0.1:${own.port}`, port: 0 })).rejects.toThrow(/WRONGPASS|invalid/i);
      setup.send(['AUTH', 's3cret'], ['CLIENT', 'LIST']);
      const [, list] = await setup.read(2);
      const lines = String((list!.value as { value: Buffer }).value).trim().split('\n');
      expect(lines).toHaveLength(1); // only this set-up connection
      setup.close();
    } finally {
      await own.stop();
    }
  });

  it('a server that accepts and never answers: rejects after connectTimeoutMs instead of waiting for good', async () => {
    const mute = createServer(() => undefined);
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const port = (mute.address() as AddressInfo).port;
    try {
      const started = Date.now();
      await expect(Runtime.start({ redisUrl: `redis://127.0.0.1:${port}`, port: 0, connectTimeoutMs: 300 })).rejects.toThrow(/did not answer/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      mute.close();
    }
  });
});
