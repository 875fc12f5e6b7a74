import { describe, expect, it } from 'vitest';
import { RequestParser, type RequestLimits } from './request-parser.js';

function parse(bytes: Buffer | string, byteByByte: boolean, limits?: RequestLimits) {
  const requests: { args: string[]; raw: string }[] = [];
  const errors: string[] = [];
  let overflow = false;
  const parser = new RequestParser(
    {
      onRequest: ({ args, raw }) => requests.push({ args: args.map((a) => a.toString('latin1')), raw: raw.toString('latin1') }),
      onProtocolError: (message) => errors.push(message),
      onQueryBufferOverflow: () => (overflow = true),
    },
    limits && (() => limits),
  );
  const buffer = Buffer.from(bytes);
  if (byteByByte) for (const b of buffer) parser.push(Buffer.from([b]));
  else parser.push(buffer);
  return { requests, errors, overflow };
}

describe('RequestParser', () => {
  for (const byteByByte of [false, true]) {
    const fed = byteByByte ? 'byte by byte' : 'whole';
    it(`reads multibulk requests with their exact bytes, inline ones as the multibulk of their arguments (${fed})`, () => {
      const wire = '*2\r\n$4\r\nECHO\r\n$3\r\na\r\n\r\n' + 'PING\r\n' + 'set "a b" \'c\'\n' + '*-10\r\n*0\r\n\r\n' + '*1\r\n$4\r\nPING\r\n';
      const { requests, errors } = parse(wire, byteByByte);
      expect(errors).toEqual([]);
      expect(requests).toEqual([
        { args: ['ECHO', 'a\r\n'], raw: '*2\r\n$4\r\nECHO\r\n$3\r\na\r\n\r\n' },
        { args: ['PING'], raw: '*1\r\n$4\r\nPING\r\n' },
        { args: ['set', 'a b', 'c'], raw: '*3\r\n$3\r\nset\r\n$3\r\na b\r\n$1\r\nc\r\n' },
        { args: ['PING'], raw: '*1\r\n$4\r\nPING\r\n' },
      ]);
    });

    it(`reports empty requests (*0, *-10, blank lines) in their place among the others (${fed})`, () => {
      const seen: string[] = [];
      const parser = new RequestParser({
        onRequest: ({ args }) => seen.push(args.map((a) => a.toString('latin1')).join(' ')),
        onEmptyRequest: () => seen.push('(empty)'),
        onProtocolError: (message) => seen.push(message),
        onQueryBufferOverflow: () => undefined,
      });
      const wire = Buffer.from('PING\r\n*0\r\n \r\n*-10\r\n\nECHO a\r\n');
      if (byteByByte) for (const b of wire) parser.push(Buffer.from([b]));
      else parser.push(wire);
      expect(seen).toEqual(['PING', '(empty)', '(empty)', '(empty)', '(empty)', 'ECHO a']);
    });

    it(`waits, as redis-server does, at a NUL before the end of an inline line or a count line (${fed})`, () => {
      // redis-server looks for the line's end with strchr, which stops at a NUL: it waits for more, forever.
      for (const stalled of ['ECHO a\0b\r\nPING\r\n', '*1\0\r\n$4\r\nPING\r\n', '*1\r\n$4\0\r\nPING\r\n', '\0\r\nPING\r\n']) {
        const { requests, errors } = parse(`PING\r\n${stalled}`, byteByByte);
        expect({ stalled, requests: requests.map((r) => r.args), errors }).toEqual({ stalled, requests: [['PING']], errors: [] });
      }
      // A NUL inside a bulk is data; after a line's end it starts the next line.
      expect(parse('*2\r\n$4\r\nECHO\r\n$1\r\n\0\r\nPING\r\n', byteByByte).requests.map((r) => r.args)).toEqual([['ECHO', '\0'], ['PING']]);
      if (!byteByByte) expect(parse(`ECHO a\0${'x'.repeat(70 * 1024)}`, false).errors).toEqual(['Protocol error: too big inline request']);
    });

    it(`stops at the first protocol error, after the requests before it (${fed})`, () => {
      const { requests, errors } = parse('PING\r\n*1\r\nfoo\r\nPING\r\n', byteByByte);
      expect(requests.map((r) => r.args)).toEqual([['PING']]);
      expect(errors).toEqual(["Protocol error: expected '$', got 'f'"]);
    });
  }

  it('enforces proto-max-bulk-len and the query buffer limit', () => {
    expect(parse('*1\r\n$11\r\n', false, { maxBulkLength: 10, maxQueryBuffer: 100 }).errors).toEqual(['Protocol error: invalid bulk length']);
    expect(parse(`*2\r\n$3\r\nSET\r\n$90\r\n${'x'.repeat(89)}`, false, { maxBulkLength: 1000, maxQueryBuffer: 100 }).overflow).toBe(true);
  });

  it('collects a large bulk chunk by chunk', () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const wire = Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${big.length}\r\n${big}\r\n*1\r\n$4\r\nPING\r\n`);
    const requests: Buffer[][] = [];
    const parser = new RequestParser({ onRequest: ({ args }) => requests.push(args), onProtocolError: () => undefined, onQueryBufferOverflow: () => undefined });
    for (let i = 0; i < wire.length; i += 65536) parser.push(wire.subarray(i, i + 65536));
    expect(requests.map((args) => args.length)).toEqual([3, 1]);
    expect(requests[0]![2]!.length).toBe(big.length);
  });
});
