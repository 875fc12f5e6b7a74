/**
 * Stream triggers (§2.4) and keyspace-trigger suppression around them (§2.3, §4.1); TFUNCTION LIST key sets per
 * verbosity (§1.3) and keyspace trigger stats.
 */
import { describe, expect, it } from 'vitest';
import { createClient, RESP_TYPES } from 'redis';
import { startRedisServer } from '../helpers/redis-server.js';
import { errorOf, eventually, lib, load, tfcall, useGearsEnv } from './gears-support.js';

const env = useGearsEnv();

type Entry = Record<string, unknown>;
async function listEntry(library: string, ...options: string[]): Promise<Entry> {
  const list = (await env.resp3.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', library, ...options])) as Entry[];
  return list[0]!;
}
async function streamState(library: string, trigger = 0): Promise<Entry[]> {
  const entry = await listEntry(library, 'vv');
  return (entry['stream_triggers'] as Entry[])[trigger]!['streams'] as Entry[];
}

describe('stream triggers (§2.4)', () => {
  it('are fired by writes from functions and keyspace triggers; their own writes fire no keyspace trigger', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerStreamTrigger('s', 'st:', (c, d) => { c.call('rpush', 'seen', d.record[0][1]); c.call('set', 'ks:fromstream', '1'); });
      redis.registerKeySpaceTrigger('k', 'ks:', (c, d) => { c.call('incr', 'ksfired'); if (d.key === 'ks:plain') c.call('xadd', 'st:1', '*', 'f', 'fromtrigger'); });
      redis.registerFunction('add', (c) => c.call('xadd', 'st:1', '*', 'f', 'fromfunction'));`));
    await env.resp3.sendCommand(tfcall('add'));
    expect(await env.resp3.lRange('seen', 0, -1)).toEqual(['fromfunction']);
    await env.resp3.set('ks:plain', 'x');
    expect(await env.resp3.lRange('seen', 0, -1)).toEqual(['fromfunction', 'fromtrigger']);
    expect(await env.resp3.get('ksfired')).toBe('1');
  });

  it('window > 1 with an async callback: at most window in flight, all delivered in order', async () => {
    await load(env.resp3, lib('lib', `
      let inFlight = 0;
      redis.registerStreamTrigger('s', 'w:', async (c, d) => {
        inFlight++;
        c.block((s) => { s.call('rpush', 'order', d.record[0][1]); s.call('rpush', 'inflight', String(inFlight)); });
        await c.block((s) => s.callAsync('ping'));
        inFlight--;
      }, { window: 3 });`));
    for (let i = 1; i <= 6; i++) await env.resp3.xAdd('w:1', '*', { n: String(i) });
    await eventually(async () => expect(await env.resp3.lRange('order', 0, -1)).toEqual(['1', '2', '3', '4', '5', '6']));
    expect(Math.max(...(await env.resp3.lRange('inflight', 0, -1)).map(Number))).toBeLessThanOrEqual(3);
    await eventually(async () => expect((await streamState('lib'))[0]!['total_record_processed']).toBe(6));
  });

  it('isStreamTrimmed with two consumers trims to the slowest one', async () => {
    await load(env.resp3, lib('fast', "redis.registerStreamTrigger('s', 't:', () => {}, { isStreamTrimmed: true });"));
    await load(env.resp3, lib('slow', `
      redis.registerStreamTrigger('s', 't:', async (c) => { await c.block((s) => s.callAsync('blpop', 'release', '0')); });`));
    await env.resp3.xAdd('t:1', '*', { a: '1' });
    await env.resp3.xAdd('t:1', '*', { a: '2' });
    // The slow consumer holds the first entry: nothing may be trimmed yet.
    expect(await env.resp3.xLen('t:1')).toBe(2);
    await env.resp2.rPush('release', ['x', 'y']);
    await eventually(async () => expect((await streamState('slow'))[0]!['total_record_processed']).toBe(2));
    // Only the acknowledgement of a trimming consumer trims (the slow one does not trim): the next entry does.
    expect(await env.resp3.xLen('t:1')).toBe(2);
    const third = await env.resp3.xAdd('t:1', '*', { a: '3' });
    expect(await env.resp3.xRange('t:1', '-', '+')).toEqual([{ id: third, message: { a: '3' } }]);
    await env.resp2.rPush('release', 'z');
  });

  // The runtime hands a library's own XADDs to stream triggers without reading them back; an entry another
  // client appended in between (bypassing the runtime, while the function ran) must not be skipped. With
  // `XADD … NOMKSTREAM` (the capture's append) the event alone cannot tell such an entry from the library's.
  for (const [variant, stream, options] of [['XADD', 'mix:1', []], ['XADD … NOMKSTREAM', 'mixn:1', ['NOMKSTREAM']]] as const) {
    it(`entries appended straight on redis-server between a library's own appends (${variant}) are all delivered, in stream order`, async () => {
      const append = ["'xadd'", `'${stream}'`, ...options.map((option) => `'${option}'`), "'*'", "'by'", "'library'"].join(', ');
      await load(env.resp3, lib('lib', `
        redis.registerStreamTrigger('s', '${stream.split(':')[0]}:', (c, d) => { c.call('rpush', 'order', d.id.join('-')); });
        redis.registerFunction('add', (c) => {
          c.call(${append});
          for (let i = 0; i < 50; i++) c.call('incr', 'busy');
          c.call(${append});
        });`));
      const direct = createClient({ url: env.redis.url });
      await direct.connect();
      try {
        await direct.xAdd(stream, '*', { by: 'direct' });
        let calling = true;
        const bypass = (async () => {
          while (calling) await direct.xAdd(stream, '*', { by: 'direct' });
        })();
        for (let round = 0; round < 30; round++) await env.resp3.sendCommand(tfcall('add'));
        calling = false;
        await bypass;
        const entries = await direct.xRange(stream, '-', '+');
        expect(entries.filter((entry) => entry.message['by'] === 'library')).toHaveLength(60);
        await eventually(async () => expect(await env.resp3.lRange('order', 0, -1)).toEqual(entries.map((entry) => entry.id)));
      } finally {
        await direct.quit();
      }
    });
  }

  it('a read of a missing key under the prefix (keymiss) makes the runtime read no stream', async () => {
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'km:', () => {});"));
    const direct = createClient({ url: env.redis.url });
    await direct.connect();
    try {
      const xranges = async () => Number(/cmdstat_xrange:calls=(\d+)/.exec(String(await direct.sendCommand(['INFO', 'commandstats'])))?.[1] ?? 0);
      const before = await xranges();
      for (let i = 0; i < 20; i++) expect(await env.resp3.xLen(`km:missing${i}`)).toBe(0);
      expect(await xranges()).toBe(before);
    } finally {
      await direct.quit();
    }
  });

  it('a trim, XDEL or consumer group on a stream its trigger read to the end makes the runtime read nothing; the next entry is delivered', async () => {
    // The library trims a capture stream after each commit (XTRIM from a function): RedisGears' reader finds no
    // entry after its position, and reads nothing; the runtime must not send an XRANGE (nor an EXISTS) for it.
    await load(env.resp3, lib('lib', `
      redis.registerStreamTrigger('s', 'tr:', (c, d) => { c.call('rpush', 'seen', d.record[0][1]); });
      redis.registerFunction('trim', (c, key, minid) => c.call('xtrim', key, 'MINID', minid));`));
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) ids.push(await env.resp3.xAdd('tr:1', '*', { n: String(i) }));
    const direct = createClient({ url: env.redis.url });
    await direct.connect();
    try {
      const calls = async (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(String(await direct.sendCommand(['INFO', 'commandstats'])))?.[1] ?? 0);
      const reads = async () => (await calls('xrange')) + (await calls('exists'));
      const before = await reads();
      await env.resp3.sendCommand(tfcall('trim', 'tr:1', ids[1]!));
      await env.resp3.sendCommand(['XTRIM', 'tr:1', 'MAXLEN', '1']);
      await env.resp3.sendCommand(['XDEL', 'tr:1', ids[2]!]);
      await env.resp3.sendCommand(['XGROUP', 'CREATE', 'tr:1', 'g', '0']);
      expect(await reads()).toBe(before);
      await env.resp3.xAdd('tr:1', '*', { n: '4' });
      expect(await env.resp3.lRange('seen', 0, -1)).toEqual(['1', '2', '3', '4']);
      expect((await streamState('lib'))[0]!['total_record_processed']).toBe(4);
    } finally {
      await direct.quit();
    }
  });

  it('an XREADGROUP (BLOCK or not) through the runtime on a stream no trigger watches costs no ordering marker; on a watched one it does', async () => {
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'rg:', () => {});"));
    const direct = createClient({ url: env.redis.url });
    await direct.connect();
    try {
      const publishes = async () => Number(/cmdstat_publish:calls=(\d+)/.exec(String(await direct.sendCommand(['INFO', 'commandstats'])))?.[1] ?? 0);
      for (const key of ['other:1', 'rg:1']) await direct.sendCommand(['XGROUP', 'CREATE', key, 'g', '0', 'MKSTREAM']);
      let before = await publishes();
      for (let i = 0; i < 5; i++) {
        await direct.xAdd('other:1', '*', { n: String(i) });
        // Served at once, with and without BLOCK (a blocking command takes its own route).
        const block = i % 2 === 0 ? ['BLOCK', '1000'] : [];
        const read = (await env.resp2.sendCommand(['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '10', ...block, 'STREAMS', 'other:1', '>'])) as unknown[];
        expect(read).toHaveLength(1);
      }
      expect(await publishes()).toBe(before);
      before = await publishes();
      await env.resp3.sendCommand(['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '10', 'STREAMS', 'rg:1', '>']);
      expect(await publishes()).toBeGreaterThan(before);
    } finally {
      await direct.quit();
    }
  });

  it('a function trimming many watched streams costs the markers of one such call, and its later appends are still delivered before its reply', async () => {
    // committed_many trims up to 100 capture logs in one call: one marker when the window ends covers them all.
    await load(env.resp3, lib('lib', `
      redis.registerStreamTrigger('s', 'mt:', (c, d) => { c.call('rpush', 'seen', d.stream_name); });
      redis.registerFunction('trim', (c, n) => { for (let i = 0; i < Number(n); i++) c.call('xtrim', 'mt:' + i, 'MAXLEN', '0'); });
      redis.registerFunction('trimThenAdd', (c) => { c.call('xtrim', 'mt:0', 'MAXLEN', '0'); c.call('xtrim', 'mt:1', 'MAXLEN', '0'); c.call('xadd', 'mt:2', '*', 'a', '1'); c.call('xadd', 'mt:3', '*', 'a', '1'); });`));
    for (let i = 0; i < 20; i++) await env.resp3.xAdd(`mt:${i}`, '*', { a: '0' });
    const direct = createClient({ url: env.redis.url });
    await direct.connect();
    try {
      const publishes = async () => Number(/cmdstat_publish:calls=(\d+)/.exec(String(await direct.sendCommand(['INFO', 'commandstats'])))?.[1] ?? 0);
      const cost = async (n: number) => {
        const before = await publishes();
        await env.resp3.sendCommand(tfcall('trim', String(n)));
        return (await publishes()) - before;
      };
      const one = await cost(1);
      expect(await cost(20)).toBeLessThanOrEqual(one + 1);
      await env.resp2.del('seen');
      await env.resp3.sendCommand(tfcall('trimThenAdd'));
      expect(await env.resp3.lRange('seen', 0, -1)).toEqual(['mt:2', 'mt:3']);
    } finally {
      await direct.quit();
    }
  });

  it('an exception is recorded and the position advances (and the stream is still trimmed)', async () => {
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'e:', (c, d) => { if (d.record[0][1] === 'bad') throw 'nope'; c.call('incr', 'ok'); });"));
    await env.resp3.xAdd('e:1', '*', { v: 'bad' });
    await env.resp3.xAdd('e:1', '*', { v: 'good' });
    expect(await env.resp3.get('ok')).toBe('1');
    const [state] = await streamState('lib');
    expect(state!['last_error']).toBe('nope');
    expect(state!['total_record_processed']).toBe(2);
  });

  it('DEL of a stream forgets its state; FLUSHALL forgets all; a new stream of the same name is read from its start', async () => {
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'd:', (c, d) => { c.call('rpush', 'seen', d.id.join('-')); });"));
    await env.resp3.xAdd('d:1', '5-1', { a: '1' });
    expect((await streamState('lib')).length).toBe(1);
    await env.resp3.del('d:1');
    expect(await streamState('lib')).toEqual([]);
    await env.resp3.xAdd('d:1', '1-1', { a: '1' });
    expect(await env.resp3.lRange('seen', 0, -1)).toEqual(['5-1', '1-1']);
    await env.resp3.flushAll();
    expect(await streamState('lib')).toEqual([]);
  });

  it('REPLACE keeps positions and stats, updates window/trim/description, rejects a prefix change', async () => {
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'r:', (c) => { c.call('incr', 'n'); });"));
    await env.resp3.xAdd('r:1', '*', { a: '1' });
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'r:', (c) => { c.call('incr', 'm'); }, { window: 2, isStreamTrimmed: true, description: 'new' });"), 'REPLACE');
    await env.resp3.xAdd('r:1', '*', { a: '2' });
    expect([await env.resp3.get('n'), await env.resp3.get('m')]).toEqual(['1', '1']);
    const entry = await listEntry('lib', 'vv');
    const trigger = (entry['stream_triggers'] as Entry[])[0]!;
    expect([trigger['window'], trigger['trim'], trigger['description'], trigger['prefix']]).toEqual([2, true, 'new', 'r:']);
    expect((trigger['streams'] as Entry[])[0]!['total_record_processed']).toBe(2);
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'x:', () => 1);"), 'REPLACE'))).toBe(
      "Failed loading library: Can not upgrade an existing consumer with different prefix, consumer: 's', old_prefix: r:, new_prefix: x:..",
    );
  });

  it('delivers long names and values (past the 16 KiB handed over as ArrayBuffers) as short ones: text, null for invalid UTF-8, raw bytes', async () => {
    const text = `${'é'.repeat(9_000)}${'x'.repeat(20_000)}€`;
    const binary = Buffer.alloc(40_000, 0x41);
    binary[39_999] = 0xff;
    const name = `L:${'n'.repeat(20_000)}`;
    await load(env.resp3, lib('lib', `
      redis.registerStreamTrigger('s', 'L:', (c, d) => {
        const [[f1, v1], [f2, v2]] = d.record;
        const [[, r1], [, r2]] = d.record_raw;
        c.call('set', 'out', [d.stream_name.length, d.stream_name_raw.byteLength, f1, v1.length, v1.slice(8999, 9001), v2, f2,
          r1.byteLength, r2.byteLength, new Uint8Array(r2)[39999], new Uint8Array(r2)[0]].join('|'));
      });`));
    await env.resp3.sendCommand(['XADD', name, '*', 'text', text, 'bin', binary]);
    expect(await env.resp3.get('out')).toBe(`20002|20002|text|${text.length}|éx||bin|${Buffer.byteLength(text)}|40000|255|65`);
  });

  it('delivers binary stream names and values as null with raw ArrayBuffers, duplicate fields kept', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerStreamTrigger('s', 'b:', (c, d) => {
        c.call('set', 'out', [d.stream_name, d.record.map((p) => p.join('=')).join('&'), d.record_raw[1][1].byteLength, new Uint8Array(d.stream_name_raw)[2]].join('|'));
      });`));
    await env.resp3.sendCommand(['XADD', Buffer.from([0x62, 0x3a, 0xff]), '*', 'f', 'v', 'f', Buffer.from([0xc3])]);
    expect(await env.resp3.get('out')).toBe('|f=v&f=|1|255');
  });
});

/**
 * Streams that appear or change other than by an append. RedisGears reads a stream only on a stream-class keyspace
 * event (`on_stream_touched`, lib.rs, registered as `@STREAM`: xadd, xtrim, xdel, xsetid, xgroup-*), on the key scan
 * that a new stream trigger or a promotion starts (`scan_key_space_for_streams`), and after an acknowledgement; it
 * forgets a consumer's position only on `del` (`generic_notification` → `StreamReaderCtx::on_stream_deleted`) and
 * FLUSHALL/FLUSHDB. RESTORE, RENAME, COPY, MOVE, expiry and eviction raise other events: a position is neither made
 * nor dropped by them, and a stream that arrives by them is read (from its start when no position is kept) at its
 * next stream event.
 */
describe('streams that appear or change other than by XADD (§2.4)', () => {
  const seenBy = "redis.registerStreamTrigger('s', PREFIX, (c, d) => { c.call('rpush', 'seen', d.stream_name + '/' + d.id.join('-')); });";
  const loadSeen = (prefix: string) => load(env.resp3, lib('lib', seenBy.replace('PREFIX', `'${prefix}'`)));
  const seen = () => env.resp3.lRange('seen', 0, -1);
  const tracked = async () => (await streamState('lib')).map((s) => String(s['name'])).sort();
  const asBuffers = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };
  /** A DUMP payload of a stream with these explicit ids, made under a key no trigger watches. */
  async function dumpOf(...ids: string[]): Promise<Buffer> {
    for (const id of ids) await env.resp3.xAdd('unwatched:src', id, { v: id });
    const payload = (await env.resp3.sendCommand(['DUMP', 'unwatched:src'], asBuffers)) as Buffer;
    await env.resp3.del('unwatched:src');
    return payload;
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

  it('RESTORE of a stream under the prefix delivers nothing; its next stream event reads it from its start', async () => {
    await loadSeen('rs:');
    const payload = await dumpOf('1-1', '2-1');
    expect(await env.resp3.sendCommand(['RESTORE', 'rs:1', '0', payload])).toBe('OK');
    await settle();
    expect(await seen()).toEqual([]);
    expect(await tracked()).toEqual([]);
    await env.resp3.xAdd('rs:1', '3-1', { v: '3-1' });
    expect(await seen()).toEqual(['rs:1/1-1', 'rs:1/2-1', 'rs:1/3-1']);
  });

  it('RESTORE … REPLACE over a stream the trigger read keeps its position: the next stream event delivers only the entries after it', async () => {
    await loadSeen('rr:');
    await env.resp3.xAdd('rr:1', '5-1', { v: 'old' });
    const payload = await dumpOf('1-1', '6-1', '7-1');
    await env.resp3.sendCommand(['RESTORE', 'rr:1', '0', payload, 'REPLACE']);
    await settle();
    expect(await seen()).toEqual(['rr:1/5-1']);
    expect(await tracked()).toEqual(['rr:1']);
    // An XDEL of an entry is a stream event too: it reads after 5-1.
    await env.resp3.sendCommand(['XDEL', 'rr:1', '7-1']);
    expect(await seen()).toEqual(['rr:1/5-1', 'rr:1/6-1']);
  });

  it('RENAME onto the prefix: nothing until the new name\'s next stream event, then all its entries; the old name keeps its position', async () => {
    await loadSeen('rn:');
    await env.resp3.xAdd('rn:a', '1-1', { v: '1' });
    await env.resp3.rename('rn:a', 'rn:b');
    await env.resp3.xAdd('unwatched:x', '4-1', { v: '4' });
    await env.resp3.rename('unwatched:x', 'rn:c');
    await settle();
    expect(await seen()).toEqual(['rn:a/1-1']);
    expect(await tracked()).toEqual(['rn:a']);
    await env.resp3.xAdd('rn:b', '2-1', { v: '2' });
    await env.resp3.xAdd('rn:c', '5-1', { v: '5' });
    // rn:b's first entry was delivered as rn:a's already: RedisGears, keyed by name, delivers it again.
    expect(await seen()).toEqual(['rn:a/1-1', 'rn:b/1-1', 'rn:b/2-1', 'rn:c/4-1', 'rn:c/5-1']);
    expect(await tracked()).toEqual(['rn:a', 'rn:b', 'rn:c']);
  });

  it('COPY onto the prefix: nothing until the copy\'s next stream event, then all its entries', async () => {
    await loadSeen('cp:');
    await env.resp3.xAdd('cp:a', '1-1', { v: '1' });
    expect(await env.resp3.copy('cp:a', 'cp:b')).toBe(1);
    await settle();
    expect(await seen()).toEqual(['cp:a/1-1']);
    await env.resp3.xAdd('cp:b', '2-1', { v: '2' });
    expect(await seen()).toEqual(['cp:a/1-1', 'cp:b/1-1', 'cp:b/2-1']);
  });

  it('MIGRATE in (a RESTORE on this server) delivers nothing until the next stream event; MIGRATE out (a del) forgets the position', async () => {
    await loadSeen('mg:');
    const other = await startRedisServer();
    const direct = createClient({ url: other.url });
    await direct.connect();
    try {
      await direct.xAdd('mg:1', '1-1', { v: '1' });
      expect(await direct.sendCommand(['MIGRATE', '127.0.0.1', String(env.redis.port), 'mg:1', '0', '5000'])).toBe('OK');
      await settle();
      expect(await env.resp3.exists('mg:1')).toBe(1);
      expect(await seen()).toEqual([]);
      await env.resp3.xAdd('mg:1', '2-1', { v: '2' });
      expect(await seen()).toEqual(['mg:1/1-1', 'mg:1/2-1']);
      expect(await tracked()).toEqual(['mg:1']);
      expect(await env.resp3.sendCommand(['MIGRATE', '127.0.0.1', String(other.port), 'mg:1', '0', '5000'])).toBe('OK');
      expect(await tracked()).toEqual([]);
    } finally {
      await direct.quit();
      await other.stop();
    }
  });

  it('a new stream trigger (not a REPLACE of one) starts the scan of every stream: a RESTOREd stream of another trigger is read then', async () => {
    await loadSeen('sc:');
    await env.resp3.sendCommand(['RESTORE', 'sc:1', '0', await dumpOf('1-1', '2-1')]);
    // An upgrade keeps its consumer and scans nothing (register_stream_consumer).
    await load(env.resp3, lib('lib', seenBy.replace('PREFIX', "'sc:'")), 'REPLACE');
    await settle();
    expect(await seen()).toEqual([]);
    // scan_key_space_for_streams calls on_stream_touched for every stream, for every consumer whose prefix matches.
    await load(env.resp3, lib('other', "redis.registerStreamTrigger('t', 'elsewhere:', () => {});"));
    await eventually(async () => expect(await seen()).toEqual(['sc:1/1-1', 'sc:1/2-1']));
  });

  it('DEL then XADD in one MULTI: the position is forgotten first, so an entry below the old position is delivered; UNLINK forgets too', async () => {
    await loadSeen('dm:');
    await env.resp3.xAdd('dm:1', '5-1', { v: 'old' });
    await env.resp3.multi().del('dm:1').xAdd('dm:1', '1-1', { v: 'new' }).exec();
    expect(await seen()).toEqual(['dm:1/5-1', 'dm:1/1-1']);
    await env.resp3.unlink('dm:1');
    expect(await tracked()).toEqual([]);
  });

  it('XTRIM of entries not yet delivered: they are never delivered, the next one left is', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerStreamTrigger('s', 'xt:', async (c, d) => {
        await c.block((s) => s.callAsync('blpop', 'release', '0'));
        c.block((s) => s.call('rpush', 'seen', d.id.join('-')));
      });`));
    for (const id of ['1-1', '2-1', '3-1', '4-1']) await env.resp3.xAdd('xt:1', id, { v: id });
    // 1-1 is in flight (window 1); 2-1 and 3-1 are trimmed before the trigger reads them.
    await env.resp3.sendCommand(['XTRIM', 'xt:1', 'MINID', '4-1']);
    await env.resp2.rPush('release', ['a', 'b']);
    await eventually(async () => expect(await seen()).toEqual(['1-1', '4-1']));
    expect((await streamState('lib'))[0]!['total_record_processed']).toBe(2);
  });

  it('an expired stream keeps its position (RedisGears forgets only on del): a new stream of its name is read after it', async () => {
    await loadSeen('ex:');
    await env.resp3.xAdd('ex:1', '5-1', { v: 'old' });
    await env.resp3.pExpire('ex:1', 20);
    await eventually(async () => expect(await env.resp3.exists('ex:1')).toBe(0));
    await settle();
    expect(await tracked()).toEqual(['ex:1']);
    await env.resp3.xAdd('ex:1', '1-1', { v: 'below' });
    await env.resp3.xAdd('ex:1', '6-1', { v: 'above' });
    expect(await seen()).toEqual(['ex:1/5-1', 'ex:1/6-1']);
  });
});

describe('keyspace triggers: stats, keymiss, errors (§2.3, §4.1)', () => {
  it('a read of a missing key fires keymiss; errors reach only TFUNCTION LIST; onTriggerFired may add data', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerKeySpaceTrigger('miss', 'm:', (c, d) => { c.call('rpush', 'events', d.event + ':' + d.key + ':' + d.when); },
        { onTriggerFired: (c, d) => { d.when = String(c.call('exists', d.key)); } });
      redis.registerKeySpaceTrigger('fail', 'f:', () => { throw new Error('trigger broke'); }, { description: 'fails' });`));
    expect(await env.resp3.get('m:1')).toBeNull();
    await env.resp3.set('m:1', 'v');
    expect(await env.resp3.lRange('events', 0, -1)).toEqual(['keymiss:m:1:0', 'set:m:1:1']);
    expect(await env.resp3.set('f:1', 'v')).toBe('OK');
    expect(await env.resp2.sendCommand(['SET', 'f:1', 'w'])).toBe('OK');
    const triggers = (await listEntry('lib', 'v'))['keyspace_triggers'] as Entry[];
    expect(Object.keys(triggers[1]!).sort()).toEqual(['description', 'last_error', 'last_execution_time', 'name', 'num_failed', 'num_finished', 'num_success', 'num_trigger', 'total_execution_time']);
    expect(triggers[1]).toMatchObject({ name: 'fail', description: 'fails', num_trigger: 2, num_failed: 2, num_success: 0, num_finished: 2, last_error: 'Error: trigger broke' });
    expect(triggers[0]).toMatchObject({ num_trigger: 2, num_success: 2, num_failed: 0, last_error: null, description: null });
  });

  it('MULTI/EXEC: main callbacks run after EXEC, one per event, and see the final state', async () => {
    await load(env.resp3, lib('lib', "redis.registerKeySpaceTrigger('t', 'x:', (c, d) => { c.call('rpush', 'main', c.call('get', d.key)); });"));
    await env.resp3.multi().set('x:1', 'a').set('x:1', 'b').exec();
    expect(await env.resp3.lRange('main', 0, -1)).toEqual(['b', 'b']);
  });

  // Server side: the runtime learns the events of an EXEC from redis-server's keyspace notifications after the
  // EXEC has run, so onTriggerFired cannot see the state between two commands of one transaction (RedisGears
  // runs it inside each notification). Needs the server to split a MULTI whose keys match a trigger with onTriggerFired.
  it.todo('MULTI/EXEC: onTriggerFired sees the key as each command of the transaction left it (expects ["b/a", "b/b"])');
});

describe('TFUNCTION LIST verbosity (§1.3)', () => {
  it('v0 name lists; v1 function and stream-trigger maps; vv adds streams; options are additive and LIBRARY keeps the last name', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('f', () => 1);
      redis.registerAsyncFunction('a', async () => 1, { flags: ['raw-arguments', 'no-writes'] });
      redis.registerKeySpaceTrigger('k', 'k:', () => 1);
      redis.registerStreamTrigger('s', 's:', () => 1);
      redis.registerClusterFunction('c', async () => 1);`));
    await load(env.resp3, lib('other', "redis.registerFunction('g', () => 1);"));
    await env.resp3.xAdd('s:1', '1-1', { a: '1' });
    const plain = await listEntry('lib');
    expect([plain['functions'], plain['keyspace_triggers'], plain['stream_triggers'], plain['cluster_functions'], plain['pending_jobs'], plain['engine']]).toEqual([
      ['f', 'a'], ['k'], ['s'], ['c'], 0, 'js',
    ]);
    const v1 = await listEntry('lib', 'v');
    expect((v1['functions'] as Entry[])[1]).toEqual({ name: 'a', description: null, flags: ['no-writes', 'raw-arguments'], is_async: true });
    expect((v1['stream_triggers'] as Entry[])[0]).toEqual({ name: 's', prefix: 's:', window: 1, trim: false, description: null });
    const vv = (await listEntry('lib', 'v', 'verbose'))['stream_triggers'] as Entry[];
    const stream = (vv[0]!['streams'] as Entry[])[0]!;
    expect(Object.keys(stream).sort()).toEqual(['id_to_read_from', 'last_error', 'last_lag', 'last_processed_time', 'name', 'pending_ids', 'total_lag', 'total_processed_time', 'total_record_processed']);
    expect([stream['name'], stream['id_to_read_from'], stream['pending_ids'], stream['last_error']]).toEqual(['s:1', '1-1', [], null]);
    const last = (await env.resp3.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', 'lib', 'LIBRARY', 'other'])) as Entry[];
    expect(last.map((e) => e['name'])).toEqual(['other']);
  });

  it('RESP2: flat arrays with keys in alphabetical order at every level, booleans 1/0, nil configuration', async () => {
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 's:', () => 1, { isStreamTrimmed: true }); redis.registerKeySpaceTrigger('k', 'k:', () => 1);"));
    await env.resp3.xAdd('s:1', '1-1', { a: '1' });
    const [entry] = (await env.resp2.sendCommand(['TFUNCTION', 'LIST', 'vvv', 'WITHCODE'])) as unknown[][];
    const keys = (flat: unknown[]) => flat.filter((_, i) => i % 2 === 0);
    expect(keys(entry!)).toEqual(['api_version', 'cluster_functions', 'code', 'configuration', 'engine', 'functions', 'keyspace_triggers', 'name', 'pending_async_calls', 'pending_jobs', 'stream_triggers', 'user']);
    expect(entry![entry!.indexOf('configuration') + 1]).toBeNull();
    const stream = (entry![entry!.indexOf('stream_triggers') + 1] as unknown[][])[0]!;
    expect(keys(stream)).toEqual(['description', 'name', 'prefix', 'streams', 'trim', 'window']);
    expect(stream[stream.indexOf('trim') + 1]).toBe(1);
    const streams = stream[stream.indexOf('streams') + 1] as unknown[][];
    expect(keys(streams[0]!)).toEqual(['id_to_read_from', 'last_error', 'last_lag', 'last_processed_time', 'name', 'pending_ids', 'total_lag', 'total_processed_time', 'total_record_processed']);
    const keyspace = (entry![entry!.indexOf('keyspace_triggers') + 1] as unknown[][])[0]!;
    expect(keys(keyspace)).toEqual(['description', 'last_error', 'last_execution_time', 'name', 'num_failed', 'num_finished', 'num_success', 'num_trigger', 'total_execution_time']);
    expect(await errorOf(env.resp2.sendCommand(['TFUNCTION', 'LIST', Buffer.from([0xff])]))).toBe('Binary option is not allowed');
    expect(await errorOf(env.resp2.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', Buffer.from([0xff])]))).toBe('Library name is not a string');
  });
});
