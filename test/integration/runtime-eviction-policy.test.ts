/**
 * The runtime keeps its libraries and stream positions in keys of the backing server (`__writebehind_runtime__:…`).
 * Under an `allkeys-*` maxmemory policy the server may evict them like any key. A running runtime writes them again
 * (runtime-library-store-loss.test.ts), but a runtime started after an eviction no runtime saw starts without its
 * libraries: nothing is captured. It cannot exempt its keys, so it says so at start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { recordedLog } from '../helpers/recorded-log.js';

let server: RedisServer | undefined;
let runtime: StartedRuntime | undefined;

afterEach(async () => {
  await runtime?.close();
  await server?.stop();
  runtime = server = undefined;
});

/** The warn lines a runtime logs at start in front of a server started with `extraArgs`. */
async function startWarnings(extraArgs: string[]): Promise<{ msg: string; maxmemoryPolicy?: string }[]> {
  const { log, lines } = recordedLog<{ msg: string; maxmemoryPolicy?: string }>('warn');
  server = await startRedisServer({ extraArgs });
  runtime = await startRuntime(server, { log });
  return lines;
}

describe('an evicting maxmemory policy', () => {
  it('is named at start when it may evict the runtime\'s own keys (allkeys-lru)', async () => {
    const warned = (await startWarnings(['--maxmemory-policy', 'allkeys-lru'])).filter((line) => line.maxmemoryPolicy !== undefined);
    expect(warned).toHaveLength(1);
    expect(warned[0]!.maxmemoryPolicy).toBe('allkeys-lru');
    expect(warned[0]!.msg).toContain('__writebehind_runtime__:');
  });

  it('is not named when only keys with a TTL can go (volatile-lru) or nothing is evicted (noeviction)', async () => {
    expect((await startWarnings(['--maxmemory-policy', 'volatile-lru'])).filter((line) => line.maxmemoryPolicy !== undefined)).toEqual([]);
    await runtime?.close();
    await server?.stop();
    expect((await startWarnings([])).filter((line) => line.maxmemoryPolicy !== undefined)).toEqual([]);
  });
});
