/**
 * Read-ahead (src/runtime/library-host/read-ahead.ts): the runtime sends a keyspace trigger's usual first read
 * right behind the client's write, on the client's connection, and hands its reply to the trigger's first call.
 * These tests check that it happens, and that library code cannot tell: a read ahead is only what the call
 * would have got, its events are the library's, and it leaves no trace a client did not cause.
 */
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { eventually, lib, load, useGearsEnv } from './gears-support.js';
import { monitored as monitorServer } from '../helpers/monitor.js';

// DEBUG SET-ACTIVE-EXPIRE holds an expired key for the read ahead to find.
const env = useGearsEnv({ redisArgs: ['--enable-debug-command', 'yes'] });

/** redis-server's MONITOR lines while `work` ran: `<time> [<db> <client address>] "<command>" …`. */
const monitored = (work: () => Promise<void>) => monitorServer(env.redis.url, work, () => env.resp3.ping());

/** The client address of the MONITOR line of `command` on `key`. */
function addressOf(lines: readonly string[], command: string, key: string): string {
  const line = lines.find((candidate) => candidate.toLowerCase().includes(`] "${command.toLowerCase()}" "${key}"`));
  if (line === undefined) throw new Error(`no ${command} ${key} in MONITOR:\n${lines.join('\n')}`);
  return /\[\d+ ([^\]]+)\]/.exec(line)![1]!;
}

/** Reads the hash first, as the write-behind capture does, and keeps what it read. */
const READER = lib('reader', `
  redis.registerKeySpaceTrigger('t', 'ra:', (c, d) => {
    if (d.event !== 'hset') return;
    const values = c.call('hmget', d.key, 'a', 'b');
    c.call('rpush', 'seen', d.key + '=' + values.join(','));
  });`);

const seen = () => env.resp3.lRange('seen', 0, -1);

describe('read-ahead of a trigger\'s first read', () => {
  it('sends the read right behind the write, on the client\'s own connection, and the trigger gets its reply', async () => {
    await load(env.resp3, READER);
    await env.resp3.hSet('ra:1', 'a', '1'); // teaches the runtime what the trigger reads first
    const lines = await monitored(async () => {
      await env.resp3.hSet('ra:2', { a: '2', b: 'x' });
    });
    expect(addressOf(lines, 'HMGET', 'ra:2')).toBe(addressOf(lines, 'HSET', 'ra:2'));
    expect(await seen()).toEqual(['ra:1=1,', 'ra:2=2,x']);
  });

  it('gives the read only to the window\'s first call: a second trigger reads what the first one wrote', async () => {
    await load(env.resp3, lib('writer', `
      redis.registerKeySpaceTrigger('w', 'ra:', (c, d) => { if (d.event === 'hset' && d.key.endsWith('w')) c.call('hset', d.key, 'b', 'late'); });`));
    await load(env.resp3, READER);
    await env.resp3.hSet('ra:1', 'a', '1'); // 'writer' makes no call: 'reader''s HMGET is the first, and is learnt
    await env.resp3.hSet('ra:2w', 'a', '2'); // read ahead without b; 'writer''s HSET comes first
    expect(await seen()).toEqual(['ra:1=1,', 'ra:2w=2,late']);
  });

  it('still checks the library owner\'s rights: a read ahead is refused when the owner may no longer run it', async () => {
    await env.resp3.sendCommand(['ACL', 'SETUSER', 'owner', 'on', '>pass', '~*', '&*', '+@all']);
    const owner = createClient({ url: `redis://owner:pass@127.0.0.1:${env.runtime.port}`, RESP: 3 });
    await owner.connect();
    try {
      await load(owner, READER);
      await env.resp3.hSet('ra:1', 'a', '1');
      await env.resp3.sendCommand(['ACL', 'SETUSER', 'owner', '-hmget']);
      await env.resp3.hSet('ra:2', 'a', '2'); // the writer (default) may read: the read goes ahead
      expect(await seen()).toEqual(['ra:1=1,']);
      const list = (await env.resp3.sendCommand(['TFUNCTION', 'LIST', 'vvv'])) as Record<string, unknown>[];
      expect(String((list[0]!['keyspace_triggers'] as Record<string, unknown>[])[0]!['last_error'])).toMatch(/^NOPERM/);
    } finally {
      await owner.quit();
      await env.resp3.sendCommand(['ACL', 'DELUSER', 'owner']);
    }
  });

  it('reads nothing ahead for a client whose reads would leave a trace: a restricted user, CLIENT TRACKING', async () => {
    await load(env.resp3, READER);
    await env.resp3.hSet('ra:1', 'a', '1');
    await env.resp3.sendCommand(['ACL', 'SETUSER', 'writer', 'on', '>pass', '~*', '&*', '+@all', '-hmget']);
    const restricted = createClient({ url: `redis://writer:pass@127.0.0.1:${env.runtime.port}`, RESP: 3 });
    const tracking = createClient({ url: env.runtime.url, RESP: 3 });
    await restricted.connect();
    await tracking.connect();
    try {
      await env.resp3.sendCommand(['ACL', 'LOG', 'RESET']);
      await tracking.sendCommand(['CLIENT', 'TRACKING', 'ON']);
      const lines = await monitored(async () => {
        await restricted.hSet('ra:2', 'a', '2');
        await tracking.hSet('ra:3', 'a', '3');
      });
      expect(addressOf(lines, 'HMGET', 'ra:2')).not.toBe(addressOf(lines, 'HSET', 'ra:2'));
      expect(addressOf(lines, 'HMGET', 'ra:3')).not.toBe(addressOf(lines, 'HSET', 'ra:3'));
      expect(await env.resp3.sendCommand(['ACL', 'LOG'])).toEqual([]);
      expect(await seen()).toEqual(['ra:1=1,', 'ra:2=2,', 'ra:3=3,']);
    } finally {
      await restricted.quit();
      await tracking.quit();
      await env.resp3.sendCommand(['ACL', 'DELUSER', 'writer']);
    }
  });

  it('treats the read\'s keyspace events as the library\'s: a keymiss fires nothing, an expiry it caused still fires', async () => {
    await load(env.resp3, lib('events', `
      redis.registerKeySpaceTrigger('t', 'rk:', (c, d) => {
        if (d.event !== 'del') c.call('hget', d.key, 'a');
        c.call('rpush', 'events', d.event);
      });`));
    const direct = createClient({ url: env.redis.url });
    await direct.connect();
    try {
      await direct.sendCommand(['DEBUG', 'SET-ACTIVE-EXPIRE', '0']);
      await env.resp3.hSet('rk:1', 'a', '1'); // learnt: HGET rk:<key> a
      // The DEL's read ahead finds no key (keymiss); the trigger's first call on 'del' is RPUSH, so nobody takes it.
      await env.resp3.del('rk:1');
      await env.resp3.hSet('rk:2', 'a', '2');
      await env.resp3.pExpire('rk:2', 20);
      await new Promise((resolve) => setTimeout(resolve, 60));
      // Refused before it looks the key up (a field without a value): only the read ahead touches rk:2, and
      // finds it expired.
      await env.resp3.sendCommand(['HSET', 'rk:2', 'a', '1', 'b']).catch(() => undefined);
      await eventually(async () => expect(await env.resp3.lRange('events', 0, -1)).toEqual(['hset', 'del', 'hset', 'expire', 'expired']));
    } finally {
      await direct.sendCommand(['DEBUG', 'SET-ACTIVE-EXPIRE', '1']);
      await direct.quit();
    }
  });
});
