/**
 * The runtime lifts the `pubsub` class of `client-output-buffer-limit` at start (server-config.ts): a burst of
 * changes to watched keys (one script, one EXEC) queues all its keyspace messages on the runtime's subscription at
 * once, and a server that drops the subscription for it leaves no trigger able to fire (the runtime closes). A
 * client's own `CONFIG SET client-output-buffer-limit` through the runtime must not put the limit back.
 * Found by Redis's own Tcl suite (unit/obuf-limits sets `pubsub 100000 0 0`).
 */
import { describe, expect, it } from 'vitest';
import { useRuntimeWithTestHost } from '../helpers/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';

const env = useRuntimeWithTestHost({ flush: true });

const call = RespSocket.call;

/** The pubsub class of the server's client-output-buffer-limit, as CONFIG GET says it, asked directly. */
async function pubsubLimit(): Promise<string> {
  const reply = await call(env.redis.port, 'CONFIG', 'GET', 'client-output-buffer-limit');
  return /pubsub \d+ \d+ \d+/.exec(reply)?.[0] ?? reply;
}

describe("a client's CONFIG SET client-output-buffer-limit through the runtime", () => {
  it('keeps the pubsub class lifted, so a burst of keyspace messages does not make the server drop the subscription', { timeout: 30_000 }, async () => {
    const asked = 'normal 0 0 0 pubsub 100000 0 0';
    expect(await call(env.runtime.port, 'CONFIG', 'SET', 'client-output-buffer-limit', asked)).toBe('+OK\r\n');

    // 20,000 changes in one script: about 1.5 MB of keyspace messages queued at once, far over 100,000 bytes.
    const before = env.host.keyspaceEvents.length;
    const burst = 'for i = 1, 20000 do redis.call("SET", "trig:" .. i, i) end return 1';
    expect(await call(env.runtime.port, 'EVAL', burst, '0')).toBe(':1\r\n');
    expect(env.host.keyspaceEvents.length - before).toBe(20_000);
    expect(await call(env.runtime.port, 'PING')).toBe('+PONG\r\n');
    expect(await pubsubLimit()).toBe('pubsub 0 0 0');
  });

  it('is refused as the server refuses it when the pubsub class is malformed, and sets the other classes', async () => {
    const malformed = await call(env.runtime.port, 'CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 10mb 10mb 60s');
    expect(malformed).toBe(await call(env.redis.port, 'CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 10mb 10mb 60s'));
    expect(malformed).toMatch(/^-ERR .*soft_seconds setting/);

    const asked = 'normal 1mb 2mb 60 replica 3mb 4mb 70 pubsub 5mb 6mb 80';
    expect(await call(env.runtime.port, 'CONFIG', 'SET', 'client-output-buffer-limit', asked)).toBe('+OK\r\n');
    const got = await call(env.redis.port, 'CONFIG', 'GET', 'client-output-buffer-limit');
    expect(got).toContain('normal 1048576 2097152 60 slave 3145728 4194304 70 pubsub 0 0 0');
    await call(env.redis.port, 'CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0 replica 256mb 64mb 60');
  });
});
