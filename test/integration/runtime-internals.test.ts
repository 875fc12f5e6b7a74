/**
 * What a client of the runtime sees of the runtime's own traffic on the server: the ordering markers (PUBLISH on a
 * channel of its own), barrier PINGs, its control connection's commands and its keyspace subscription. MONITOR,
 * SLOWLOG, pattern subscriptions and PUBSUB introspection show none of it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { useRuntimeWithTestHost } from '../helpers/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { textOf, type RespValue } from '../../src/runtime/resp/types.js';

const env = useRuntimeWithTestHost();

beforeEach(async () => {
  const direct = await RespSocket.open(env.redis.port);
  direct.send(['FLUSHALL'], ['CONFIG', 'SET', 'slowlog-log-slower-than', '10000'], ['SLOWLOG', 'RESET']);
  await direct.read(3);
  direct.close();
});

async function command(port: number, ...args: string[]): Promise<RespValue> {
  const socket = await RespSocket.open(port);
  socket.send(args);
  const [reply] = await socket.read(1, 10_000);
  socket.close();
  return reply!.value;
}

/** Commands that take the marker path (a trigger key, a script) and a blocking one, from a fresh connection. */
async function runtimeTraffic(): Promise<void> {
  const socket = await RespSocket.open(env.runtime.port);
  socket.send(['SET', 'trig:a', '1'], ['EVAL', 'return 1', '0'], ['BLPOP', 'nothing', '0.01'], ['SET', 'plain:last', '1']);
  await socket.read(4);
  socket.close();
}

describe('the runtime’s own traffic is hidden', () => {
  it('MONITOR shows the clients’ commands, not markers, barriers or the runtime’s own connections', async () => {
    const monitor = await RespSocket.open(env.runtime.port);
    monitor.send(['MONITOR']);
    expect(await monitor.readBytes(1)).toBe('+OK\r\n');
    await runtimeTraffic();
    const lines: string[] = [];
    while (!lines.some((line) => line.includes('"plain:last"'))) lines.push(textOf((await monitor.read(1))[0]!.value) ?? '');
    monitor.close();
    const commands = lines.map((line) => line.replace(/^\S+ \[[^\]]*\] /, ''));
    expect(commands).toEqual(['"SET" "trig:a" "1"', '"EVAL" "return 1" "0"', '"BLPOP" "nothing" "0.01"', '"SET" "plain:last" "1"']);
  });

  it('SLOWLOG GET and LEN count the clients’ commands only', async () => {
    expect(await command(env.runtime.port, 'CONFIG', 'SET', 'slowlog-log-slower-than', '0')).toEqual({ type: 'simple', value: 'OK' });
    expect(await command(env.runtime.port, 'SLOWLOG', 'RESET')).toEqual({ type: 'simple', value: 'OK' });
    await runtimeTraffic();
    const log = await command(env.runtime.port, 'SLOWLOG', 'GET', '-1');
    const names = (log as { value: { value: RespValue[] }[] }).value.map((entry) => ((entry.value[3] as { value: RespValue[] }).value.map((a) => textOf(a)).join(' ')));
    // Newest first; a blocking command that timed out is not logged (redis-server logs blocked commands only when served).
    expect(names).toEqual(['SET plain:last 1', 'EVAL return 1 0', 'SET trig:a 1', 'SLOWLOG RESET']);
    expect(await command(env.runtime.port, 'SLOWLOG', 'LEN')).toEqual({ type: 'integer', value: 5n });
  });

  it('PSUBSCRIBE * does not receive markers; PUBSUB NUMPAT and CHANNELS leave out the runtime’s subscription', async () => {
    const numpat = await command(env.redis.port, 'PUBSUB', 'NUMPAT');
    expect(numpat).toEqual({ type: 'integer', value: 1n }); // the runtime's keyspace pattern (this test host names no prefixes: every key), seen on the server
    expect(await command(env.runtime.port, 'PUBSUB', 'NUMPAT')).toEqual({ type: 'integer', value: 0n });
    expect(await command(env.runtime.port, 'PUBSUB', 'CHANNELS')).toEqual({ type: 'array', value: [] });
    const subscriber = await RespSocket.open(env.runtime.port);
    subscriber.send(['PSUBSCRIBE', '*']);
    await subscriber.read(1);
    await runtimeTraffic();
    expect(await command(env.runtime.port, 'PUBLISH', 'news', 'hello')).toEqual({ type: 'integer', value: 1n });
    // Keyspace notifications are the server's own (the runtime turns them on): a subscriber to * gets them anyway.
    const channels: string[] = [];
    while (channels.at(-1) !== 'news') channels.push(textOf(((await subscriber.read(1))[0]!.value as { value: RespValue[] }).value[2]!) ?? '');
    expect(channels.filter((channel) => !channel.startsWith('__keyspace@'))).toEqual(['news']);
    subscriber.close();
  });
});
