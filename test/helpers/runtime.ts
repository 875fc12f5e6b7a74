/**
 * The runtime in front of a test's own redis-server, on a free port, with the real LibraryHost. Pass
 * `createHost` to use a host of the test's own (e.g. a RuntimeTestHost that records what the server hands it).
 */
import { Runtime, type GearsHostFactory } from '../../src/runtime/runtime.js';
import type { Logger } from '../../src/shared/log.js';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { listenerPort } from '../../bench/support/redis-server-process.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { RespSocket } from './resp-socket.js';
import { RuntimeTestHost } from './runtime-test-host.js';

export interface StartedRuntime {
  readonly runtime: Runtime;
  /** redis://127.0.0.1:<port> of the runtime (not of the redis-server behind it). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface StartRuntimeOptions {
  createHost?: GearsHostFactory;
  log?: Logger;
  lockTimeoutMs?: number;
  /** RuntimeOptions.settingsCheckMs: 0 for a test that switches the notify flags off on purpose (uncaptured-writes.ts). */
  settingsCheckMs?: number;
  /** The runtime's port; a free one by default (from WB_TEST_PORTS, if set). */
  port?: number;
}

export async function startRuntime(redis: RedisServer, options: StartRuntimeOptions = {}): Promise<StartedRuntime> {
  const createHost = options.createHost;
  const runtime = await Runtime.start({
    redisUrl: redis.url,
    port: options.port ?? (await listenerPort()),
    ...(createHost ? { createHost } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
    ...(options.settingsCheckMs === undefined ? {} : { settingsCheckMs: options.settingsCheckMs }),
  });
  return { runtime, url: runtime.url, port: runtime.port, close: () => runtime.close() };
}

/** The runtime of a file that tests the server side alone: its redis-server, the runtime, and a RuntimeTestHost. */
export interface RuntimeWithTestHost {
  readonly redis: RedisServer;
  readonly runtime: StartedRuntime;
  /** Records what the server hands the host; `trig:` keys fire its keyspace trigger. */
  readonly host: RuntimeTestHost;
}

/**
 * The hooks of such a file: a redis-server and the runtime over a RuntimeTestHost (keyspace prefix `trig:`, so both
 * the shared and the markered path are exercised) for the whole file, and (`flush`) FLUSHALL before each test. The
 * returned object is filled in beforeAll.
 */
export function useRuntimeWithTestHost(options: { flush?: boolean } = {}): RuntimeWithTestHost {
  const env = {} as { redis: RedisServer; runtime: StartedRuntime; host: RuntimeTestHost };
  beforeAll(async () => {
    env.redis = await startRedisServer();
    env.host = new RuntimeTestHost({ redisPort: env.redis.port, keyspacePrefixes: ['trig:'] });
    env.runtime = await startRuntime(env.redis, { createHost: async () => env.host });
  });
  afterAll(async () => {
    await env.runtime?.close();
    await env.redis?.stop();
  });
  if (options.flush) {
    beforeEach(async () => {
      const direct = await RespSocket.open(env.redis.port);
      direct.send(['FLUSHALL']);
      await direct.read(1);
      direct.close();
    });
  }
  return env;
}
