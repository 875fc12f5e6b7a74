import { describe, expect, it } from 'vitest';
import { errorOf, lib, load, useGearsEnv } from './gears-support.js';

const env = useGearsEnv();

describe('registerFunction / TFCALL', () => {
  it('calls a function with keys and arguments together, replying +OK to the load', async () => {
    expect(await load(env.resp3, lib('lib', "redis.registerFunction('echo', (c, ...a) => a);"))).toBe('OK');
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.echo', '1', 'k', 'a'])).toEqual(['k', 'a']);
  });

  it('converts RESP3 replies to JS: integers BigInt, maps objects, nil null, errors thrown strings', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('types', (c) => {
        c.call('hset', 'h', 'f', 'v');
        const incr = c.call('incr', 'n');
        const all = c.call('hgetall', 'h');
        const missing = c.call('get', 'nothing');
        let err; try { c.call('lpush', 'h', 'x'); } catch (e) { err = e; }
        return [typeof incr, incr === 1n, all.f, missing === null, typeof err, err];
      });`));
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.types', '0'])).toEqual([
      'bigint', 1, 'v', 1, 'string', 'WRONGTYPE Operation against a key holding the wrong kind of value',
    ].map((v) => (v === 1 ? true : v)));
  });

  it('returns values per §3.4 for RESP3 and RESP2 callers', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('num', () => 1.5);
      redis.registerFunction('int', () => 7);
      redis.registerFunction('big', () => 10n);
      redis.registerFunction('bool', () => true);
      redis.registerFunction('undef', () => undefined);
      redis.registerFunction('obj', () => ({ a: 'x', 0: 'zero' }));
      redis.registerFunction('set', () => new Set(['s']));
      redis.registerFunction('status', () => { const s = new String('FINE'); s.__reply_type = 'status'; return s; });
      redis.registerFunction('nul', () => null);`));
    env.raw.send(['HELLO', '3']);
    await env.raw.read(1);
    env.raw.send(['TFCALL', 'lib.num', '0'], ['TFCALL', 'lib.int', '0'], ['TFCALL', 'lib.big', '0'], ['TFCALL', 'lib.bool', '0'], ['TFCALL', 'lib.undef', '0'], ['TFCALL', 'lib.obj', '0'], ['TFCALL', 'lib.set', '0'], ['TFCALL', 'lib.status', '0'], ['TFCALL', 'lib.nul', '0']);
    expect(await env.raw.readBytes(9)).toBe(',1.5\r\n:7\r\n:10\r\n#t\r\n$9\r\nundefined\r\n%2\r\n:0\r\n$4\r\nzero\r\n$1\r\na\r\n$1\r\nx\r\n~1\r\n$1\r\ns\r\n+FINE\r\n_\r\n');
    env.raw.send(['HELLO', '2']);
    await env.raw.read(1);
    env.raw.send(['TFCALL', 'lib.num', '0'], ['TFCALL', 'lib.bool', '0'], ['TFCALL', 'lib.obj', '0'], ['TFCALL', 'lib.set', '0'], ['TFCALL', 'lib.nul', '0']);
    expect(await env.raw.readBytes(5)).toBe('$3\r\n1.5\r\n:1\r\n*4\r\n:0\r\n$4\r\nzero\r\n$1\r\na\r\n$1\r\nx\r\n*1\r\n$1\r\ns\r\n$-1\r\n');
  });

  it('turns thrown values into error replies with their string form', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('str', () => { throw 'Some Error'; });
      redis.registerFunction('err', () => { throw new Error('x'); });`));
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.str', '0']))).toBe('Some Error');
    expect(await errorOf(env.resp2.sendCommand(['TFCALL', 'lib.err', '0']))).toBe('Error: x');
  });

  it('gives the TFCALL error texts', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('f', () => 1); redis.registerAsyncFunction('a', async () => 1);"));
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'nolib.f', '0']))).toBe('Unknown library nolib');
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.nofn', '0']))).toBe('Unknown function nofn');
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.f', '2', 'k']))).toBe('Not enough arguments was given, expected at least 2 arguments, got 1 arguments.');
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.f']))).toBe("ERR wrong number of arguments for 'tfcall' command");
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.a', '0']))).toBe(
      'The function is declared as async and was called while blocking was not allowed; note that you cannot invoke async functions from within Lua or MULTI, and you must use TFCALLASYNC instead.',
    );
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.a', '0'])).toBe(1);
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.f', '0', Buffer.from([0xff])]))).toBe('Can not convert argument to string');
  });

  it('isBlockAllowed is false under TFCALL and true under TFCALLASYNC', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('b', (c) => c.isBlockAllowed());"));
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.b', '0'])).toBe(false);
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.b', '0'])).toBe(true);
  });

  it('runs async functions with block(), callAsync and executeAsync', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerAsyncFunction('blk', async (c, key) => c.block((s) => s.call('set', key, 'v')));
      redis.registerAsyncFunction('nested', async (c) => c.block(() => { try { c.block(() => 1); } catch (e) { return e; } }));
      redis.registerFunction('exec', (c) => c.executeAsync(async (a) => a.block((s) => s.call('get', 'k'))));
      redis.registerFunction('pop', (c) => c.callAsync('blpop', 'l', '0'));`));
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.blk', '1', 'k'])).toBe('OK');
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.nested', '0'])).toBe('Main thread is already blocked');
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.exec', '0'])).toBe('v');
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.exec', '0']))).toContain('Blocking is not allow');
    const popped = env.resp3.sendCommand(['TFCALLASYNC', 'lib.pop', '0']);
    await new Promise((r) => setTimeout(r, 100));
    const list = (await env.resp2.sendCommand(['TFUNCTION', 'LIST'])) as unknown[][];
    expect(list[0]![list[0]!.indexOf('pending_async_calls') + 1]).toEqual(['blpop l 0']);
    await env.resp2.sendCommand(['RPUSH', 'l', 'x']);
    expect(await popped).toEqual(['l', 'x']);
  });

  it('enforces NO_WRITES and script mode', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('w', (c) => c.call('set', 'x', '1'), { flags: [redis.functionFlags.NO_WRITES] });
      redis.registerFunction('e', (c) => c.call('multi'));
      redis.registerFunction('n', (c) => c.call('set', 'x', 1));`));
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.w', '0']))).toBe("ERR Write command 'set' was called while write is not allowed.");
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.e', '0']))).toBe("ERR command 'multi' is not allowed on script mode");
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.n', '0']))).toBe('Failed consuming arguments. Can not convert value into bytes buffer.');
  });
});
