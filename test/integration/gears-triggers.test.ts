import { describe, expect, it } from 'vitest';
import { errorOf, eventually, lib, load, useGearsEnv } from './gears-support.js';

const env = useGearsEnv();

/** The verbose LIST entry of one trigger, as a plain object (RESP3 maps). */
async function triggerInfo(library: string, kind: 'keyspace_triggers' | 'stream_triggers', verbosity = 'v'): Promise<Record<string, unknown>> {
  const list = (await env.resp3.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', library, verbosity])) as Record<string, unknown>[];
  return (list[0]![kind] as Record<string, unknown>[])[0]!;
}

describe('keyspace triggers (§2.3, §4.1)', () => {
  it('runs the sync callback before the reply, with data {event, key, key_raw}; may write the same key', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerKeySpaceTrigger('t', 'person:', (c, d) => {
        if (d.event === 'hset') c.call('hset', d.key, '__seen__', d.event + ':' + (d.key_raw instanceof ArrayBuffer));
      });`));
    await env.resp3.hSet('person:1', 'a', '1');
    expect(await env.resp3.hGet('person:1', '__seen__')).toBe('hset:true');
    const info = await triggerInfo('lib', 'keyspace_triggers');
    expect(info['num_trigger']).toBe(1);
    expect(info['num_success']).toBe(1);
    expect(info['num_finished']).toBe(1);
  });

  it('matches a raw byte prefix: * is literal', async () => {
    await load(env.resp3, lib('lib', "redis.registerKeySpaceTrigger('t', 'keys:*', (c, d) => { c.call('incr', 'hits'); });"));
    await env.resp3.set('keys:1', 'x');
    await env.resp3.set('keys:*1', 'x');
    expect(await env.resp3.get('hits')).toBe('1');
  });

  it('records failures without showing them to the writer; onTriggerFired is read-only and a failure skips the callback', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerKeySpaceTrigger('boom', 'a', () => { throw 'bad'; });
      redis.registerKeySpaceTrigger('ro', 'b', (c) => { c.call('incr', 'main'); }, { onTriggerFired: (c) => { c.call('set', 'x', '1'); } });
      redis.registerKeySpaceTrigger('add', 'c', (c, d) => { c.call('set', 'seen', d.extra); }, { onTriggerFired: (c, d) => { d.extra = c.call('get', d.key); } });`));
    expect(await env.resp3.set('a1', 'v')).toBe('OK');
    const boom = await triggerInfo('lib', 'keyspace_triggers');
    expect(boom['num_failed']).toBe(1);
    expect(boom['last_error']).toBe('bad');
    await env.resp3.set('b1', 'v');
    expect(await env.resp3.get('main')).toBeNull();
    const list = (await env.resp3.sendCommand(['TFUNCTION', 'LIST', 'vvv'])) as Record<string, unknown>[];
    const ro = (list[0]!['keyspace_triggers'] as Record<string, unknown>[])[1]!;
    expect(ro['last_error']).toBe("ERR Write command 'set' was called while write is not allowed.");
    await env.resp3.set('c1', 'state');
    expect(await env.resp3.get('seen')).toBe('state');
  });

  it('does not fire for writes made by functions or by triggers', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerKeySpaceTrigger('t', 'k', (c, d) => { c.call('incr', 'fired'); c.call('set', 'k2', 'x'); });
      redis.registerFunction('w', (c) => c.call('set', 'k1', 'x'));`));
    await env.resp3.sendCommand(['TFCALL', 'lib.w', '0']);
    expect(await env.resp3.get('fired')).toBeNull();
    await env.resp3.set('k3', 'x');
    expect(await env.resp3.get('fired')).toBe('1');
  });

  it('does not fire for writes a function makes with callAsync, however late their events arrive', async () => {
    // RedisGears runs a non-blocking callAsync command at once, inside the function: its notifications are
    // suppressed like any other write of the function. The runtime sends it on another connection, so its
    // events may reach the runtime after the function's own marker.
    await load(env.resp3, lib('lib', `
      redis.registerKeySpaceTrigger('t', 'k', (c) => { c.call('incr', 'fired'); });
      redis.registerFunction('s', (c, key) => c.callAsync('hset', key, 'f', 'v'));`));
    for (let i = 0; i < 20; i++) {
      await env.resp3.sendCommand(['TFCALLASYNC', 'lib.s', '1', `k-sync-${i}`]);
    }
    await env.resp3.set('k-client', 'x');
    expect(await env.resp3.get('fired')).toBe('1');
  });

  it('runs async callbacks later with an async client', async () => {
    await load(env.resp3, lib('lib', "redis.registerKeySpaceTrigger('t', 'q', async (c, d) => { c.block((s) => s.call('set', 'done', d.key)); });"));
    await env.resp3.set('q1', 'x');
    await eventually(async () => expect(await env.resp3.get('done')).toBe('q1'));
    await eventually(async () => expect((await triggerInfo('lib', 'keyspace_triggers'))['num_success']).toBe(1));
  });

  it('validates trigger options strictly', async () => {
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerKeySpaceTrigger('t', 1, () => 1);")))).toBe(
      "Failed loading library: Second argument to 'registerKeySpaceTrigger' must be a string or ArrayBuffer representing the prefix.",
    );
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerKeySpaceTrigger('t', 'p', () => 1, { onTriggerFired: async () => 1 });")))).toBe(
      "Failed loading library: 'onTriggerFired' argument to 'registerKeySpaceTrigger' must be a function.",
    );
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerKeySpaceTrigger('t', 'p', () => 1); redis.registerKeySpaceTrigger('t', 'q', () => 1);")))).toBe(
      'Failed loading library: Notification consumer already exists.',
    );
  });
});

describe('stream triggers (§2.4)', () => {
  it('delivers entries in order with data {id, stream_name, record…}, sync callbacks before the XADD reply', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerStreamTrigger('s', 'st:', (c, d) => {
        c.call('rpush', 'log', [typeof d.id[0], d.id[1].toString(), d.stream_name, d.stream_name_raw instanceof ArrayBuffer, JSON.stringify(d.record)].join('|'));
      });`));
    const id = await env.resp3.xAdd('st:1', '*', { f: 'v' });
    const [ms, seq] = id.split('-');
    expect(await env.resp3.lRange('log', 0, -1)).toEqual([`bigint|${seq}|st:1|true|[["f","v"]]`]);
    expect(ms).toBeDefined();
  });

  it('records exceptions and still advances; trims to the slowest consumer', async () => {
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'e:', (c, d) => { throw 'nope'; }, { isStreamTrimmed: true });"));
    await env.resp3.xAdd('e:1', '*', { a: '1' });
    await env.resp3.xAdd('e:1', '*', { a: '2' });
    expect(await env.resp3.xLen('e:1')).toBe(0);
    const info = await triggerInfo('lib', 'stream_triggers', 'vv');
    const stream = (info['streams'] as Record<string, unknown>[])[0]!;
    expect(stream['last_error']).toBe('nope');
    expect(stream['total_record_processed']).toBe(2);
    expect(stream['pending_ids']).toEqual([]);
  });

  it('reads streams that existed before the trigger was registered, and REPLACE keeps positions', async () => {
    await env.resp3.xAdd('old:1', '1-1', { a: '1' });
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'old:', (c, d) => { c.call('incr', 'n'); });"));
    expect(await env.resp3.get('n')).toBe('1');
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'old:', (c, d) => { c.call('incr', 'n'); });"), 'REPLACE');
    expect(await env.resp3.get('n')).toBe('1');
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'new:', () => 1);"), 'REPLACE'))).toBe(
      "Failed loading library: Can not upgrade an existing consumer with different prefix, consumer: 's', old_prefix: old:, new_prefix: new:..",
    );
  });

  it('keeps async entries pending within the window', async () => {
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'w:', async (c, d) => { await c.block((s) => s.call('incr', 'n')); }, { window: 2 });"));
    await env.resp3.xAdd('w:1', '*', { a: '1' });
    await env.resp3.xAdd('w:1', '*', { a: '2' });
    await env.resp3.xAdd('w:1', '*', { a: '3' });
    await eventually(async () => expect(await env.resp3.get('n')).toBe('3'));
  });
});

describe('TFUNCTION LIST (§1.3)', () => {
  it('gives the keys per verbosity, sorted, booleans 1/0 in RESP2', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('f', () => 1, { description: 'd', flags: ['no-writes'] });"));
    const list = (await env.resp2.sendCommand(['TFUNCTION', 'LIST', 'v'])) as unknown[][];
    const entry = list[0]!;
    expect(entry.filter((_, i) => i % 2 === 0)).toEqual([
      'api_version', 'cluster_functions', 'configuration', 'engine', 'functions', 'keyspace_triggers', 'name', 'pending_async_calls', 'pending_jobs', 'stream_triggers', 'user',
    ]);
    expect(entry[entry.indexOf('functions') + 1]).toEqual([['description', 'd', 'flags', ['no-writes'], 'is_async', 0, 'name', 'f']]);
    expect(await errorOf(env.resp2.sendCommand(['TFUNCTION', 'LIST', 'xyz']))).toBe("Unknown option 'xyz'");
    expect(await errorOf(env.resp2.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY']))).toBe('Library name was not given');
    expect(await errorOf(env.resp2.sendCommand(['TFUNCTION', 'DELETE', 'nope']))).toBe('library does not exists');
    const withCode = (await env.resp3.sendCommand(['TFUNCTION', 'LIST', 'WITHCODE'])) as Record<string, unknown>[];
    expect(withCode[0]!['code']).toContain("registerFunction('f'");
    expect(withCode[0]!['configuration']).toBeNull();
    expect(withCode[0]!['user']).toBe('default');
  });
});
