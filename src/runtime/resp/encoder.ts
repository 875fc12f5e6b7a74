/**
 * Encodes RESP values for a client of a given protocol. RESP2 clients get the downgrades redis-server itself
 * applies: maps become flat arrays, sets arrays, doubles bulk strings, booleans 1/0, null `$-1`.
 */
import type { RespProtocol, RespValue } from './types.js';

export function encode(value: RespValue, protocol: RespProtocol): Buffer {
  const parts: (string | Buffer)[] = [];
  write(value, protocol, parts);
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

/** A command as redis-server expects it: an array of bulk strings. */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  return encodeCommands([args]);
}

/**
 * Commands back to back, in one buffer allocated once: the runtime encodes a few small commands for every
 * captured write (its markers, the read ahead, library calls), and a buffer per header and argument joined
 * afterwards cost more than writing them.
 */
export function encodeCommands(commands: readonly (readonly (string | Uint8Array)[])[]): Buffer {
  let length = 0;
  for (const args of commands) {
    length += headerLength(args.length);
    for (const arg of args) {
      const size = typeof arg === 'string' ? Buffer.byteLength(arg) : arg.length;
      length += headerLength(size) + size + 2;
    }
  }
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const args of commands) {
    offset = writeHeader(out, offset, 0x2a, args.length);
    for (const arg of args) {
      if (typeof arg === 'string') {
        const size = Buffer.byteLength(arg);
        offset = writeHeader(out, offset, 0x24, size);
        offset += out.write(arg, offset);
      } else {
        offset = writeHeader(out, offset, 0x24, arg.length);
        out.set(arg, offset);
        offset += arg.length;
      }
      out[offset++] = 0x0d;
      out[offset++] = 0x0a;
    }
  }
  return out;
}

/** Bytes of `<type byte><n>\r\n`. */
function headerLength(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits + 3;
}

function writeHeader(out: Buffer, offset: number, type: number, n: number): number {
  out[offset] = type;
  const end = offset + headerLength(n) - 2;
  let rest = n;
  for (let at = end - 1; at > offset; at--) {
    out[at] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  out[end] = 0x0d;
  out[end + 1] = 0x0a;
  return end + 2;
}

const CRLF = Buffer.from('\r\n');

function write(value: RespValue, protocol: RespProtocol, out: (string | Buffer)[]): void {
  switch (value.type) {
    case 'simple':
      out.push(`+${oneLine(value.value)}\r\n`);
      return;
    case 'error':
      out.push(`-${oneLine(value.value)}\r\n`);
      return;
    case 'integer':
      out.push(`:${value.value}\r\n`);
      return;
    case 'blob':
      out.push(`$${value.value.length}\r\n`, value.value, CRLF);
      return;
    case 'null':
      out.push(protocol === 3 ? '_\r\n' : '$-1\r\n');
      return;
    case 'double': {
      const text = formatDouble(value.value);
      out.push(protocol === 3 ? `,${text}\r\n` : `$${Buffer.byteLength(text)}\r\n${text}\r\n`);
      return;
    }
    case 'boolean':
      out.push(protocol === 3 ? `#${value.value ? 't' : 'f'}\r\n` : `:${value.value ? 1 : 0}\r\n`);
      return;
    case 'bignum':
      out.push(protocol === 3 ? `(${value.value}\r\n` : `$${value.value.length}\r\n${value.value}\r\n`);
      return;
    case 'verbatim':
      if (protocol === 3) {
        const payload = Buffer.concat([Buffer.from(`${value.format}:`), value.value]);
        out.push(`=${payload.length}\r\n`, payload, CRLF);
      } else {
        out.push(`$${value.value.length}\r\n`, value.value, CRLF);
      }
      return;
    case 'array':
    case 'set':
    case 'push': {
      const marker = protocol === 3 ? { array: '*', set: '~', push: '>' }[value.type] : '*';
      out.push(`${marker}${value.value.length}\r\n`);
      for (const item of value.value) write(item, protocol, out);
      return;
    }
    case 'map':
      out.push(protocol === 3 ? `%${value.value.length}\r\n` : `*${value.value.length * 2}\r\n`);
      for (const [k, v] of value.value) {
        write(k, protocol, out);
        write(v, protocol, out);
      }
      return;
  }
}

/** Simple strings and errors cannot hold line breaks; Redis replaces them with spaces. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}

/** Doubles as redis-server prints them (17 significant digits, inf/-inf/nan). */
function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}
