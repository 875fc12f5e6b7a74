/**
 * A trigger's `XADD … NOMKSTREAM` append to a watched stream and what follows it: writes after the append (to
 * the same stream, pipelined, from clients and from triggers) are all delivered once and in order, and an append
 * that finds no stream (a lazily expired one) has its events settled before the client's reply. Guards for any
 * attempt to run such appends without a marker (docs/runtime.md, "An append without a marker: reverted").
 */
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { eventually, lib, load, useGearsEnv } from './gears-support.js';

const env = useGearsEnv({ redisArgs: ['--enable-debug-command', 'yes'] });

/** A capture-like library: a keyspace trigger appends to a stream another trigger of the library consumes. */
const CAPTURE = lib('capture', `
  redis.registerKeySpaceTrigger('k', 'ua:', (c, d) => {
    if (d.event !== 'hset') return;
    const value = c.call('hget', d.key, 'v');
    if (c.call('xadd', 'uas:1', 'NOMKSTREAM', '*', 'from', 'trigger', 'key', d.key, 'v', value) === null) c.call('rpush', 'nostream', d.key);
  });
  redis.registerKeySpaceTrigger('x', 'uas:', (c, d) => { if (d.event === 'expired') c.call('rpush', 'expired', d.key); });
  redis.registerStreamTrigger('s', 'uas:', (c, d) => { c.call('rpush', 'seen', d.id.join('-') + ' ' + d.record.map((f) => f.join('=')).join(',')); });`);

const seen = () => env.resp3.lRange('seen', 0, -1);

async function streamProcessed(): Promise<unknown> {
  const list = (await env.resp3.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', 'capture', 'vv'])) as Record<string, unknown>[];
  const trigger = (list[0]!['stream_triggers'] as Record<string, unknown>[])[0]!;
  return (trigger['streams'] as Record<string, unknown>[])[0]?.['total_record_processed'];
}

/** Every entry of uas:1 as the stream trigger reports it, in stream order. */
async function streamEntries(): Promise<string[]> {
  const entries = await env.resp3.xRange('uas:1', '-', '+');
  return entries.map((entry) => `${entry.id} ${Object.entries(entry.message).map(([f, v]) => `${f}=${v}`).join(',')}`);
}

describe('a trigger\'s NOMKSTREAM append to a watched stream', () => {
  it('loses no write that follows the append: client appends to the same stream, pipelined with captured writes', async () => {
    await env.resp3.xAdd('uas:1', '*', { from: 'client', n: '0' });
    await load(env.resp3, CAPTURE);
    await env.resp3.hSet('ua:0', 'v', '0');
    const other = createClient({ url: `redis://127.0.0.1:${env.runtime.port}` });
    await other.connect();
    try {
      const first = (await seen()).length;
      const writes: Promise<unknown>[] = [];
      for (let i = 1; i <= 40; i += 1) {
        writes.push(env.resp3.hSet(`ua:${i}`, 'v', String(i)));
        writes.push(env.resp3.xAdd('uas:1', '*', { from: 'client', n: String(i) }));
        writes.push(other.hSet(`ua:o${i}`, 'v', String(i)));
        writes.push(other.xAdd('uas:1', '*', { from: 'other', n: String(i) }));
      }
      await Promise.all(writes);
      // 80 captured and 80 client appends after those, each delivered once, in the stream's order.
      await eventually(async () => expect((await seen()).length).toBe(first + 160));
      expect(await seen()).toEqual((await streamEntries()).slice(-(first + 160)));
      await eventually(async () => expect(await streamProcessed()).toBe(first + 160));
    } finally {
      await other.quit();
    }
  });

  it('settles the events of an append that found no stream before the client\'s reply: a lazy expiry still fires', async () => {
    await env.resp3.xAdd('uas:1', '*', { from: 'client', n: '0' });
    await load(env.resp3, CAPTURE);
    const direct = createClient({ url: env.redis.url });
    await direct.connect();
    try {
      await direct.sendCommand(['DEBUG', 'SET-ACTIVE-EXPIRE', '0']);
      await env.resp3.hSet('ua:1', 'v', '1');
      await env.resp3.hSet('ua:2', 'v', '2'); // appended without a marker
      await direct.pExpire('uas:1', 20);
      await new Promise((resolve) => setTimeout(resolve, 60));
      // The append finds uas:1 expired (NOMKSTREAM: null, and an `expired` event from the library's call).
      // Pipelined: the LRANGE runs right after the HSET's reply, before anything processed later would be.
      const [, expired] = await Promise.all([env.resp3.hSet('ua:3', 'v', '3'), env.resp3.lRange('expired', 0, -1)]);
      expect(expired).toEqual(['uas:1']);
      expect(await env.resp3.lRange('nostream', 0, -1)).toEqual(['ua:3']);
      // The stream is back (a client's append): the next captured write appends again.
      await env.resp3.xAdd('uas:1', '*', { from: 'client', n: '1' });
      await env.resp3.hSet('ua:4', 'v', '4');
      await env.resp3.hSet('ua:5', 'v', '5');
      expect((await seen()).slice(-3).map((line) => line.split(' ')[1])).toEqual(['from=client,n=1', 'from=trigger,key=ua:4,v=4', 'from=trigger,key=ua:5,v=5']);
    } finally {
      await direct.sendCommand(['DEBUG', 'SET-ACTIVE-EXPIRE', '1']);
      await direct.quit();
    }
  });
});
