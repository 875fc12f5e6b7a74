import { describe, expect, it } from 'vitest';
import { RespDecoder } from './decoder.js';
import { encode, encodeCommand, encodeCommands } from './encoder.js';
import type { RespValue } from './types.js';

const frames: [string, string, RespValue][] = [
  ['simple', '+OK\r\n', { type: 'simple', value: 'OK' }],
  ['error', '-ERR bad thing\r\n', { type: 'error', value: 'ERR bad thing' }],
  ['integer', ':-42\r\n', { type: 'integer', value: -42n }],
  ['blob', '$5\r\nhe\r\no\r\n', { type: 'blob', value: Buffer.from('he\r\no') }],
  ['null blob', '$-1\r\n', { type: 'null' }],
  ['null array', '*-1\r\n', { type: 'null' }],
  ['resp3 null', '_\r\n', { type: 'null' }],
  ['double', ',1.5\r\n', { type: 'double', value: 1.5 }],
  ['inf', ',inf\r\n', { type: 'double', value: Infinity }],
  ['boolean', '#t\r\n', { type: 'boolean', value: true }],
  ['bignum', '(3492890328409238509324850943850943825024385\r\n', { type: 'bignum', value: '3492890328409238509324850943850943825024385' }],
  ['verbatim', '=15\r\ntxt:Some string\r\n', { type: 'verbatim', format: 'txt', value: Buffer.from('Some string') }],
  ['blob error', '!9\r\nERR oops!\r\n', { type: 'error', value: 'ERR oops!' }],
  ['nested array', '*2\r\n*1\r\n:1\r\n$1\r\nx\r\n', { type: 'array', value: [{ type: 'array', value: [{ type: 'integer', value: 1n }] }, { type: 'blob', value: Buffer.from('x') }] }],
  ['map', '%1\r\n+a\r\n:1\r\n', { type: 'map', value: [[{ type: 'simple', value: 'a' }, { type: 'integer', value: 1n }]] }],
  ['set', '~1\r\n+a\r\n', { type: 'set', value: [{ type: 'simple', value: 'a' }] }],
  ['push', '>2\r\n+message\r\n+x\r\n', { type: 'push', value: [{ type: 'simple', value: 'message' }, { type: 'simple', value: 'x' }] }],
  ['attribute skipped', '|1\r\n+ttl\r\n:3\r\n:7\r\n', { type: 'integer', value: 7n }],
  ['empty array', '*0\r\n', { type: 'array', value: [] }],
  ['attribute inside an array', '*2\r\n|1\r\n+a\r\n*1\r\n:1\r\n%0\r\n:2\r\n', { type: 'array', value: [{ type: 'map', value: [] }, { type: 'integer', value: 2n }] }],
  ['null array inside an array', '*2\r\n*-1\r\n$-1\r\n', { type: 'array', value: [{ type: 'null' }, { type: 'null' }] }],
];

function decodeAll(bytes: Buffer, byteByByte: boolean, inline = false) {
  const out: { value: RespValue; raw: string }[] = [];
  const decoder = new RespDecoder((value, raw) => out.push({ value, raw: raw.toString('latin1') }), { inlineCommands: inline });
  if (byteByByte) for (const b of bytes) decoder.push(Buffer.from([b]));
  else decoder.push(bytes);
  return { out, pending: decoder.pendingBytes };
}

describe('RespDecoder', () => {
  for (const [name, wire, expected] of frames) {
    for (const byteByByte of [false, true]) {
      it(`decodes ${name} fed ${byteByByte ? 'byte by byte' : 'whole'} and reports its exact bytes`, () => {
        const { out, pending } = decodeAll(Buffer.from(wire + '+NEXT\r\n', 'latin1'), byteByByte);
        expect(out.map((o) => o.value)).toEqual([expected, { type: 'simple', value: 'NEXT' }]);
        expect(out[0]!.raw).toBe(wire);
        expect(pending).toBe(0);
      });
    }
  }

  it('keeps binary bulk strings as bytes', () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe]);
    const { out } = decodeAll(Buffer.concat([Buffer.from('$3\r\n'), bytes, Buffer.from('\r\n')]), true);
    expect((out[0]!.value as { value: Buffer }).value.equals(bytes)).toBe(true);
  });

  it('collects a large bulk string chunk by chunk, with the values around it intact', () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0x61);
    const bytes = Buffer.concat([Buffer.from('+before\r\n*2\r\n$3\r\nSET\r\n'), Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n:7\r\n')]);
    const out: { value: RespValue; raw: Buffer }[] = [];
    const decoder = new RespDecoder((value, raw) => out.push({ value, raw: Buffer.from(raw) }));
    for (let i = 0; i < bytes.length; i += 65536) decoder.push(bytes.subarray(i, i + 65536));
    expect(out.map((o) => o.value.type)).toEqual(['simple', 'array', 'integer']);
    const [, set] = (out[1]!.value as { value: { value: Buffer }[] }).value;
    expect(set!.value.equals(big)).toBe(true);
    expect(Buffer.concat(out.map((o) => o.raw)).equals(bytes)).toBe(true);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('decodes a reply nested 100,000 deep (no recursion to overflow the stack)', () => {
    const depth = 100_000;
    const wire = '*1\r\n'.repeat(depth) + '-ERR reached lua stack limit\r\n';
    const { out } = decodeAll(Buffer.from(wire + '+NEXT\r\n'), false);
    expect(out.map((o) => o.raw)).toEqual([wire, '+NEXT\r\n']);
    let value = out[0]!.value;
    for (let i = 0; i < depth; i++) value = (value as { value: RespValue[] }).value[0]!;
    expect(value).toEqual({ type: 'error', value: 'ERR reached lua stack limit' });
  });

  it('accepts inline commands when asked to', () => {
    const { out } = decodeAll(Buffer.from('PING\r\nset a  b\n*1\r\n$4\r\nPING\r\n'), false, true);
    expect(out.map((o) => (o.value as { value: { value: Buffer }[] }).value.map((v) => v.value.toString()))).toEqual([['PING'], ['set', 'a', 'b'], ['PING']]);
  });
});

describe('encode', () => {
  it('round-trips RESP3 values', () => {
    for (const [, , value] of frames) {
      if (value.type === 'error' || value.type === 'null') continue;
      const { out } = decodeAll(encode(value, 3), false);
      expect(out[0]!.value).toEqual(value);
    }
  });

  it('downgrades for RESP2 as redis-server does', () => {
    expect(encode({ type: 'map', value: [[{ type: 'blob', value: Buffer.from('a') }, { type: 'boolean', value: true }]] }, 2).toString()).toBe('*2\r\n$1\r\na\r\n:1\r\n');
    expect(encode({ type: 'double', value: 1.1 }, 2).toString()).toBe('$3\r\n1.1\r\n');
    expect(encode({ type: 'null' }, 2).toString()).toBe('$-1\r\n');
    expect(encode({ type: 'set', value: [] }, 2).toString()).toBe('*0\r\n');
  });

  it('encodes commands as arrays of bulk strings', () => {
    expect(encodeCommand(['SET', 'k', Buffer.from('v')]).toString()).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
  });

  it('encodes commands back to back, lengths in bytes across digit counts, arguments byte for byte', () => {
    const binary = Buffer.from([0xff, 0x00, 0x0d, 0x0a]);
    const args = ['', 'é€', binary, ...[9, 10, 99, 100, 1000].map((n) => 'x'.repeat(n))];
    const commands = [args, Array.from({ length: 12 }, (_, i) => String(i)), ['PING']];
    const expected = Buffer.concat(
      commands.flatMap((command) => [
        Buffer.from(`*${command.length}\r\n`),
        ...command.flatMap((arg) => {
          const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
          return [Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')];
        }),
      ]),
    );
    expect(encodeCommands(commands).equals(expected)).toBe(true);
    const decoded: RespValue[] = [];
    const decoder = new RespDecoder((value) => decoded.push(value));
    decoder.push(encodeCommands(commands));
    expect(decoded).toHaveLength(3);
    expect(decoded[0]).toEqual({ type: 'array', value: args.map((arg) => ({ type: 'blob', value: Buffer.from(arg) })) });
  });
});
