/**
 * The runtime in front of a test's own redis-server, on a free port. Uses the real LibraryHost once
 * src/runtime/library-host/library-host.ts exists; before that, a RuntimeTestHost with no triggers (so plain
 * pass-through works, and TF commands reply an error). Pass `createHost` to use a host of the test's own.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Runtime, type GearsHostFactory } from '../../src/runtime/runtime.js';
import type { Logger } from '../../src/shared/log.js';
import type { RedisServer } from './redis-server.js';
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
}

const LIBRARY_HOST_SOURCE = fileURLToPath(new URL('../../src/runtime/library-host/library-host.ts', import.meta.url));

export async function startRuntime(redis: RedisServer, options: StartRuntimeOptions = {}): Promise<StartedRuntime> {
  const createHost: GearsHostFactory | undefined =
    options.createHost ?? (existsSync(LIBRARY_HOST_SOURCE) ? undefined : async () => new RuntimeTestHost({ redisPort: redis.port }));
  const runtime = await Runtime.start({
    redisUrl: redis.url,
    port: 0,
    ...(createHost ? { createHost } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
  });
  return { runtime, url: runtime.url, port: runtime.port, close: () => runtime.close() };
}
