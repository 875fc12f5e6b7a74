/**
 * §3.3 (RESP3 replies → JS values inside library code) and §3.4 (JS return values → replies for RESP3 and
 * RESP2 callers), byte for byte on a raw socket where the reply shape differs.
 */
import { describe, expect, it } from 'vitest';
import { errorOf, lib, load, replyBytes, tfcall, useGearsEnv } from './gears-support.js';

const env = useGearsEnv();

describe('RESP3 → JS (§3.3)', () => {
  it('integers are BigInt, doubles numbers, simple strings plain strings, nil null', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('t', (c) => {
        const incr = c.call('incr', 'n');
        const score = c.call('zincrby', 'z', '1.5', 'm');
        const ok = c.call('set', 'k', 'v');
        return [typeof incr, String(incr === 1n), String(incr == 1), typeof score, String(score), typeof ok, ok,
          String(ok instanceof String), String(c.call('get', 'missing') === null), c.call('type', 'k'), typeof c.call('time')[0]].join(',');
      });`));
    expect(await env.resp3.sendCommand(tfcall('t'))).toBe('bigint,true,true,number,1.5,string,OK,false,true,string,string');
  });

  it('maps are plain objects, sets are Set, arrays Array (all of the library realm)', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('t', (c) => {
        c.call('hset', 'h', 'f1', 'a', 'f2', 'b');
        c.call('sadd', 's', 'x');
        const all = c.call('hgetall', 'h');
        const members = c.call('smembers', 's');
        return [Object.getPrototypeOf(all) === Object.prototype, JSON.stringify(all), members instanceof Set, [...members].join(),
          Array.isArray(c.call('lrange', 'h2', '0', '-1'))].join(',');
      });`));
    expect(await env.resp3.sendCommand(tfcall('t'))).toBe('true,{"f1":"a","f2":"b"},true,x,true');
  });

  it('errors are thrown as plain strings, with and without callRaw', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('t', (c) => {
        c.call('set', 'k', 'v');
        const out = [];
        for (const call of ['call', 'callRaw']) {
          try { c[call]('lpush', 'k', 'x'); } catch (e) { out.push(typeof e, e instanceof Error, e); }
        }
        return out.join('|');
      });`));
    const wrongType = 'WRONGTYPE Operation against a key holding the wrong kind of value';
    expect(await env.resp3.sendCommand(tfcall('t'))).toBe(`string|false|${wrongType}|string|false|${wrongType}`);
  });

  it('invalid UTF-8: call throws "Could not decode value as string", callRaw gives ArrayBuffers', async () => {
    await env.resp3.set('bin', Buffer.from([0xff, 0x00, 0x41]));
    await load(env.resp3, lib('lib', `
      redis.registerFunction('t', (c) => {
        let thrown; try { c.call('get', 'bin'); } catch (e) { thrown = e; }
        const raw = c.callRaw('get', 'bin');
        const ok = c.callRaw('set', 'k', 'v');
        return [thrown, raw instanceof ArrayBuffer, [...new Uint8Array(raw)].join(' '), ok instanceof ArrayBuffer, c.callRaw('get', 'none')].join('|');
      });`));
    expect(await env.resp3.sendCommand(tfcall('t'))).toBe('Could not decode value as string|true|255 0 65|true|');
  });

  it('long values (past the 16 KiB handed over as ArrayBuffers) read as short ones: text, bytes, invalid UTF-8, in arrays and maps, and as arguments', async () => {
    const text = `${'é'.repeat(9_000)}${'x'.repeat(20_000)}€`;
    const binary = Buffer.alloc(40_000, 0x41);
    binary[39_999] = 0xff;
    await env.resp3.set('long', text);
    await env.resp3.set('bin', binary);
    await env.resp3.hSet('h', { a: text });
    await load(env.resp3, lib('lib', `
      redis.registerFunction('t', (c, arg) => {
        const t = c.call('get', 'long');
        const raw = c.callRaw('get', 'bin');
        let thrown; try { c.call('get', 'bin'); } catch (e) { thrown = e; }
        const rawText = new Uint8Array(c.callRaw('get', 'long'));
        return [t.length, t === arg, t.slice(8999, 9001), raw.byteLength, new Uint8Array(raw)[39999], new Uint8Array(raw)[0], thrown,
          rawText.length, rawText[0], c.call('hgetall', 'h').a === t, c.call('mget', 'long', 'long')[1] === t].join('|');
      });
      redis.registerFunction('raw', (c, arg) => [arg instanceof ArrayBuffer, arg.byteLength, new Uint8Array(arg)[39999]].join('|'), { flags: ['raw-arguments'] });`));
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.t', '0', text])).toBe(`${text.length}|true|éx|40000|255|65|Could not decode value as string|${Buffer.byteLength(text)}|195|true|true`);
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.raw', '0', binary])).toBe('true|40000|255');
  });

  it('a binary map key throws "Binary map key is not supported", with call and callRaw', async () => {
    await env.resp3.hSet('h', Buffer.from([0xc3, 0x28]), 'v');
    await load(env.resp3, lib('lib', `
      redis.registerFunction('t', (c) => ['call', 'callRaw'].map((m) => { try { c[m]('hgetall', 'h'); return 'no error'; } catch (e) { return e; } }).join('|'));`));
    expect(await env.resp3.sendCommand(tfcall('t'))).toBe('Binary map key is not supported|Binary map key is not supported');
  });

  it('verbatim strings are String objects with __reply_type verbatim and __format txt (ArrayBuffer with callRaw)', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('t', (c) => {
        const info = c.call('info', 'server');
        const raw = c.callRaw('info', 'server');
        return [typeof info, info instanceof String, info.__reply_type, info.__format, info.startsWith('# Server'),
          raw instanceof ArrayBuffer, raw.__reply_type, raw.__format].join(',');
      });`));
    expect(await env.resp3.sendCommand(tfcall('t'))).toBe('object,true,verbatim,txt,true,true,verbatim,txt');
  });

  it('HGETALL returned to a RESP2 caller is flattened, to RESP3 a map', async () => {
    await env.resp3.hSet('h', 'f', 'v');
    await load(env.resp3, lib('lib', "redis.registerFunction('t', (c) => c.call('hgetall', 'h'));"));
    expect(await replyBytes(env, 3, tfcall('t'))).toBe('%1\r\n$1\r\nf\r\n$1\r\nv\r\n');
    expect(await replyBytes(env, 2, tfcall('t'))).toBe('*2\r\n$1\r\nf\r\n$1\r\nv\r\n');
  });
});

describe('JS → reply (§3.4)', () => {
  const functions = `
    redis.registerFunction('int', () => 7);
    redis.registerFunction('negint', () => -2147483648);
    redis.registerFunction('big31', () => 2 ** 31);
    redis.registerFunction('frac', () => 3.141);
    redis.registerFunction('bigint', () => 12345678901234n);
    redis.registerFunction('wrap', () => 2n ** 64n + 5n);
    redis.registerFunction('str', () => 'abc');
    redis.registerFunction('strobj', () => new String('plain'));
    redis.registerFunction('status', () => { const s = new String('FINE'); s.__reply_type = 'status'; return s; });
    redis.registerFunction('verbatim', () => { const s = new String('abc'); s.__reply_type = 'verbatim'; s.__format = 'mkd'; return s; });
    redis.registerFunction('buf', () => new Uint8Array([0, 255, 13, 10]).buffer);
    redis.registerFunction('nul', () => null);
    redis.registerFunction('yes', () => true);
    redis.registerFunction('no', () => false);
    redis.registerFunction('set', () => new Set(['a', 1, true, new String('a')]));
    redis.registerFunction('arr', () => ['x', [1, null]]);
    redis.registerFunction('obj', () => ({ x: 'c', 0: 'a', '-1': 'b', 7: 1.5 }));
    redis.registerFunction('undef', () => undefined);
    redis.registerFunction('fn', () => function named() {});
    redis.registerFunction('jsmap', () => new Map([['k', 'v']]));
    redis.registerFunction('inherited', () => Object.create({ inh: 'i' }));`;
  const all = ['int', 'negint', 'big31', 'frac', 'bigint', 'wrap', 'str', 'strobj', 'status', 'verbatim', 'buf', 'nul', 'yes', 'no', 'set', 'arr', 'obj', 'undef', 'fn', 'jsmap', 'inherited'];

  it('RESP3: int32/BigInt integer (BigInt wrapped to i64), other numbers double, String objects by __reply_type, ArrayBuffer, boolean, Set, map with int keys', async () => {
    await load(env.resp3, lib('lib', functions));
    expect(await replyBytes(env, 3, ...all.map((f) => tfcall(f)))).toBe(
      [
        ':7\r\n', ':-2147483648\r\n', ',2147483648\r\n', ',3.141\r\n', ':12345678901234\r\n', ':5\r\n', '$3\r\nabc\r\n', '$5\r\nplain\r\n', '+FINE\r\n',
        '=7\r\nmkd:abc\r\n', '$4\r\n\x00\xff\r\n\r\n', '_\r\n', '#t\r\n', '#f\r\n', '~3\r\n$1\r\na\r\n:1\r\n#t\r\n', '*2\r\n$1\r\nx\r\n*2\r\n:1\r\n_\r\n',
        '%4\r\n:0\r\n$1\r\na\r\n:7\r\n,1.5\r\n$1\r\nx\r\n$1\r\nc\r\n$2\r\n-1\r\n$1\r\nb\r\n', '$9\r\nundefined\r\n', '%0\r\n', '%0\r\n', '%1\r\n$3\r\ninh\r\n$1\r\ni\r\n',
      ].join(''),
    );
  });

  it('RESP2: doubles as bulk strings, verbatim as bulk, booleans 1/0, sets and maps as flat arrays, null $-1', async () => {
    await load(env.resp3, lib('lib', functions));
    expect(await replyBytes(env, 2, ...['big31', 'frac', 'status', 'verbatim', 'nul', 'yes', 'no', 'set', 'arr', 'obj', 'jsmap'].map((f) => tfcall(f)))).toBe(
      [
        '$10\r\n2147483648\r\n', '$5\r\n3.141\r\n', '+FINE\r\n', '$3\r\nabc\r\n', '$-1\r\n', ':1\r\n', ':0\r\n', '*3\r\n$1\r\na\r\n:1\r\n:1\r\n', '*2\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n',
        '*8\r\n:0\r\n$1\r\na\r\n:7\r\n$3\r\n1.5\r\n$1\r\nx\r\n$1\r\nc\r\n$2\r\n-1\r\n$1\r\nb\r\n', '*0\r\n',
      ].join(''),
    );
  });

  it('conversion errors: nesting deeper than 100, non-key Set members, index keys beyond int32, bad verbatim formats', async () => {
    await load(env.resp3, lib('lib', `
      const nest = (n) => { let v = 'leaf'; for (let i = 0; i < n; i++) v = [v]; return v; };
      const verbatim = (format) => { const s = new String('x'); s.__reply_type = 'verbatim'; if (format !== undefined) s.__format = format; return s; };
      redis.registerFunction('deep100', () => nest(100));
      redis.registerFunction('deep101', () => nest(101));
      redis.registerFunction('deepobj', () => { let v = 1; for (let i = 0; i < 101; i++) v = { v }; return v; });
      redis.registerFunction('setobj', () => new Set([[1]]));
      redis.registerFunction('setdouble', () => new Set([1.5]));
      redis.registerFunction('bigindex', () => ({ 3000000000: 'x' }));
      redis.registerFunction('noformat', () => verbatim());
      redis.registerFunction('longformat', () => verbatim('text'));
      redis.registerFunction('utfformat', () => verbatim('té'));`));
    expect(await env.resp3.sendCommand(tfcall('deep100'))).toBeDefined();
    expect(await errorOf(env.resp3.sendCommand(tfcall('deep101')))).toBe('nesting level reached');
    expect(await errorOf(env.resp2.sendCommand(tfcall('deepobj')))).toBe('nesting level reached');
    expect(await errorOf(env.resp3.sendCommand(tfcall('setobj')))).toBe('Give value is not a key');
    expect(await errorOf(env.resp3.sendCommand(tfcall('setdouble')))).toBe('Give value is not a key');
    expect(await errorOf(env.resp3.sendCommand(tfcall('bigindex')))).toBe('Give value is not a key');
    expect(await errorOf(env.resp3.sendCommand(tfcall('noformat')))).toBe('Verbatim format length must be 3.');
    expect(await errorOf(env.resp3.sendCommand(tfcall('longformat')))).toBe('Verbatim format length must be 3.');
    expect(await errorOf(env.resp3.sendCommand(tfcall('utfformat')))).toBe('Verbatim format must contains only ASCI values.');
  });

  it('a thrown value becomes an error reply with its string form', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('str', () => { throw 'Some Error'; });
      redis.registerFunction('obj', () => { throw { a: 1 }; });
      redis.registerFunction('type', () => { null.x; });
      redis.registerFunction('rejected', () => { const p = (async () => { throw 'late'; })(); return p; });`));
    expect(await replyBytes(env, 3, tfcall('str'), tfcall('obj'), tfcall('rejected'))).toBe('-Some Error\r\n-[object Object]\r\n-late\r\n');
    expect(await errorOf(env.resp2.sendCommand(tfcall('type')))).toBe("TypeError: Cannot read properties of null (reading 'x')");
  });
});
