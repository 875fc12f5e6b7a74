/**
 * Shared set-up of the gears conformance files: a redis-server, the runtime in front of it, a RESP3 and a
 * RESP2 node-redis client and a raw socket, and helpers to load libraries.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';

export type Client = ReturnType<typeof createClient>;

export interface GearsEnv {
  redis: RedisServer;
  /** In-process (startRuntime), or a process of its own (gears-isolation.test.ts). */
  runtime: Pick<StartedRuntime, 'url' | 'port' | 'close'>;
  resp3: Client;
  resp2: Client;
  raw: RespSocket;
}

export async function startGearsEnv(options: { lockTimeoutMs?: number; redisArgs?: string[] } = {}): Promise<GearsEnv> {
  const redis = await startRedisServer({ extraArgs: options.redisArgs ?? [] });
  const runtime = await startRuntime(redis, options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs });
  const resp3 = createClient({ url: runtime.url, RESP: 3 });
  const resp2 = createClient({ url: runtime.url });
  await resp3.connect();
  await resp2.connect();
  const raw = await RespSocket.open(runtime.port);
  return { redis, runtime, resp3, resp2, raw };
}

/**
 * The hooks of one conformance file: its own redis-server and runtime for the whole file, and before each test
 * every library deleted and (unless `flush: false`) the data flushed. The returned object is filled in beforeAll.
 */
export function useGearsEnv(options: { lockTimeoutMs?: number; flush?: boolean; redisArgs?: string[] } = {}): GearsEnv {
  const env = {} as GearsEnv;
  beforeAll(async () => {
    const { flush: _flush, ...start } = options;
    Object.assign(env, await startGearsEnv(start));
  }, 30_000);
  afterAll(() => stopGearsEnv(env));
  beforeEach(() => resetGears(env, { flush: options.flush ?? true }));
  return env;
}

export async function stopGearsEnv(env: GearsEnv | undefined): Promise<void> {
  if (!env?.runtime) return;
  env.raw.close();
  // Not QUIT: a runtime a hostile library wedged would never answer it, and the runtime would outlive the file.
  env.resp3.destroy();
  env.resp2.destroy();
  await env.runtime.close();
  await env.redis.stop();
}

/** The library code with its prologue. */
export function lib(name: string, body: string, apiVersion = '1.0'): string {
  return `#!js api_version=${apiVersion} name=${name}\n${body}`;
}

/** The error text of a failed command (node-redis rejects with an ErrorReply). */
export async function errorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error reply');
}

export async function load(client: Client, code: string, ...options: string[]): Promise<unknown> {
  return client.sendCommand(['TFUNCTION', 'LOAD', ...options, code]);
}

/** Waits until `check` passes (async triggers and background work finish after the reply). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Deletes every library and flushes the data: the beforeEach of the conformance files. */
export async function resetGears(env: GearsEnv, options: { flush: boolean } = { flush: true }): Promise<void> {
  const list = (await env.resp2.sendCommand(['TFUNCTION', 'LIST'])) as unknown[][];
  for (const entry of list) await env.resp2.sendCommand(['TFUNCTION', 'DELETE', entry[entry.indexOf('name') + 1] as string]);
  if (options.flush) await env.resp2.sendCommand(['FLUSHALL']);
}

/** The exact reply bytes of `commands`, sent on the raw socket after HELLO <protocol>. */
export async function replyBytes(env: GearsEnv, protocol: 2 | 3, ...commands: (string | Buffer)[][]): Promise<string> {
  env.raw.send(['HELLO', String(protocol)]);
  await env.raw.read(1);
  env.raw.send(...commands);
  return env.raw.readBytes(commands.length);
}

/** TFCALL lib.<fn> 0, as one raw command. */
export const tfcall = (fn: string, ...args: string[]): string[] => ['TFCALL', `lib.${fn}`, '0', ...args];
