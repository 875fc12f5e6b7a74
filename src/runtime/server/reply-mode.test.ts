import { describe, expect, it } from 'vitest';
import { ReplyMode } from './reply-mode.js';

const text = (b: Buffer) => b.toString('latin1');

describe('ReplyMode (CLIENT REPLY as redis-server 7.0 applies it)', () => {
  it('OFF and SKIP have no reply; SKIP silences the next request only; ON replies and ends both', () => {
    const mode = new ReplyMode();
    expect([mode.command('skip'), mode.command(null), mode.command(null)]).toEqual([true, true, false]);
    expect([mode.command('off'), mode.command('skip'), mode.command(null), mode.command('on'), mode.command(null)]).toEqual([true, true, true, false, false]);
  });

  it('an empty request uses up a SKIP', () => {
    const mode = new ReplyMode();
    mode.command('skip');
    mode.endRequest();
    expect(mode.command(null)).toBe(false);
  });

  it('inside EXEC: OFF cuts the rest of the array, SKIP silences the request after the EXEC, ON shows what follows', () => {
    const exec = Buffer.from('*3\r\n+OK\r\n+PONG\r\n$1\r\na\r\n');
    const off = new ReplyMode();
    expect(text(off.execReply(exec, [null, 'off', null]))).toBe('*3\r\n+OK\r\n');
    expect(off.muted).toBe(true);
    const skip = new ReplyMode();
    expect(text(skip.execReply(exec, ['skip', null, null]))).toBe('*3\r\n+PONG\r\n$1\r\na\r\n');
    expect([skip.command(null), skip.command(null)]).toEqual([true, false]);
    const on = new ReplyMode();
    on.command('off');
    expect(text(on.execReply(Buffer.from('*3\r\n+PONG\r\n+OK\r\n$1\r\na\r\n'), [null, 'on', null]))).toBe('+OK\r\n$1\r\na\r\n');
  });

  it('an EXEC that ran nothing changes nothing', () => {
    const mode = new ReplyMode();
    expect(text(mode.execReply(Buffer.from('-EXECABORT Transaction discarded\r\n'), ['off']))).toBe('-EXECABORT Transaction discarded\r\n');
    expect(mode.muted).toBe(false);
  });
});
