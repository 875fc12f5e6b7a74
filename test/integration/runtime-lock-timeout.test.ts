/**
 * `writebehind runtime --lock-timeout MS`: RedisGears' `lock-redis-timeout` is configurable, as on Redis Stack,
 * so library code that needs longer than the 500 ms default (a capture of a huge value, say) can be given room.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntimeProcess, type RuntimeProcess } from '../helpers/runtime-process.js';

/** A function that holds the lock for 800 ms: over the default timeout, under 3000 ms. */
const SPIN_LIBRARY = "#!js api_version=1.0 name=spin\nredis.registerFunction('spin', () => { const end = Date.now() + 800; while (Date.now() < end) {} return 'done'; });";

let redis: RedisServer;
const runtimes: RuntimeProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  for (const runtime of runtimes) await runtime.close();
  await redis?.stop();
});

/** A runtime with `extraArgs`; its port. */
async function startCliRuntime(extraArgs: string[]): Promise<string> {
  const runtime = await startRuntimeProcess(redis, extraArgs);
  runtimes.push(runtime);
  return String(runtime.port);
}

const redisCli = (port: string, args: string[]) =>
  new Promise<string>((resolve) => execFile('redis-cli', ['-p', port, ...args], { encoding: 'utf8' }, (_error, stdout) => resolve(stdout.trim())));

describe('writebehind runtime --lock-timeout', () => {
  it('kills library code at 500 ms by default, and lets it finish under --lock-timeout 3000', async () => {
    const defaultPort = await startCliRuntime([]);
    await redisCli(defaultPort, ['TFUNCTION', 'LOAD', 'REPLACE', SPIN_LIBRARY]);
    expect(await redisCli(defaultPort, ['TFCALL', 'spin.spin', '0'])).toMatch(/timeout/i);

    // One runtime per redis-server (its lease): the next one, which finds the library in the store, after it.
    await runtimes.pop()!.close();
    const roomyPort = await startCliRuntime(['--lock-timeout', '3000']);
    expect(await redisCli(roomyPort, ['TFCALL', 'spin.spin', '0'])).toBe('done');
  }, 20_000);

  it('refuses a lock timeout outside RedisGears range (100 to 1e9 ms), naming the option', async () => {
    const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [CLI, 'runtime', '--port', '0', '--redis', redis.url, '--lock-timeout', '50'], { encoding: 'utf8' }, (error, _stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      ),
    );
    expect(result.code).toBe(2);
    // The option as the user types it (--lockTimeout, the schema's key, is no option of the command).
    expect(result.stderr).toContain('--lock-timeout: Too small');
  });

  it('names a numeric option given text as the user typed it, with the text', async () => {
    const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [CLI, 'runtime', '--port', '0', '--redis', redis.url, '--memory-limit', 'lots', '--metrics-port', 'x'], { encoding: 'utf8' }, (error, _stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      ),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--memory-limit: must be a number, not 'lots'");
    expect(result.stderr).toContain("--metrics-port: must be a number, not 'x'");
  });
});
