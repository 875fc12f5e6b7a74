/**
 * The runtime in front of a test's own redis-server, on a free port, with the real LibraryHost. Pass
 * `createHost` to use a host of the test's own (e.g. a RuntimeTestHost that records what the server hands it).
 */
import { Runtime, type GearsHostFactory } from '../../src/runtime/runtime.js';
import type { Logger } from '../../src/shared/log.js';
import type { RedisServer } from './redis-server.js';

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
}

export async function startRuntime(redis: RedisServer, options: StartRuntimeOptions = {}): Promise<StartedRuntime> {
  const createHost = options.createHost;
  const runtime = await Runtime.start({
    redisUrl: redis.url,
    port: 0,
    ...(createHost ? { createHost } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
  });
  return { runtime, url: runtime.url, port: runtime.port, close: () => runtime.close() };
}
