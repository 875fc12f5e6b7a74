import { describe, expect, it } from 'vitest';
import { array, blob, integer, simple, type RespValue } from './resp/types.js';
import { CommandTable, withoutBlock } from './command-table.js';

/** A COMMAND entry in the Redis 7 shape. */
function entry(name: string, arity: number, flags: string[], first: number, last: number, step: number, subcommands: RespValue[] = []): RespValue {
  return array([blob(name), integer(arity), array(flags.map(simple)), integer(first), integer(last), integer(step), array([]), array([]), array([]), array(subcommands)]);
}

const table = CommandTable.fromCommandReply(
  array([
    entry('set', -3, ['write'], 1, 1, 1),
    entry('mset', -3, ['write'], 1, -1, 2),
    entry('zunionstore', -4, ['write', 'movablekeys'], 1, 1, 1),
    entry('ping', -1, [], 0, 0, 0),
    entry('object', -2, [], 0, 0, 0, [entry('object|encoding', 3, [], 2, 2, 1)]),
    entry('subscribe', -2, ['pubsub'], 0, 0, 0),
    entry('xrange', -4, ['readonly'], 1, 1, 1),
    entry('xinfo', -2, [], 0, 0, 0, [entry('xinfo|stream', -3, ['readonly'], 2, 2, 1)]),
    entry('blpop', -3, ['write', 'noscript', 'blocking'], 1, -2, 1),
    entry('xread', -4, ['readonly', 'blocking', 'movablekeys'], 0, 0, 0),
    entry('xreadgroup', -7, ['write', 'blocking', 'movablekeys'], 0, 0, 0),
    entry('wait', 3, ['noscript'], 0, 0, 0),
    entry('get', 2, ['readonly'], 1, 1, 1),
    entry('move', 3, ['write', 'fast'], 1, 1, 1),
    entry('copy', -3, ['write'], 1, 2, 1),
  ]),
);
const args = (...words: string[]) => words.map((w) => Buffer.from(w));
const keys = (...words: string[]) => table.keysOf(args(...words))?.map((k) => k.toString()) ?? null;

describe('CommandTable', () => {
  it('finds keys from first/last/step, subcommands included', () => {
    expect(keys('SET', 'a', 'v')).toEqual(['a']);
    expect(keys('mset', 'a', '1', 'b', '2')).toEqual(['a', 'b']);
    expect(keys('OBJECT', 'ENCODING', 'k')).toEqual(['k']);
    expect(keys('PING')).toEqual([]);
    expect(keys('NOSUCH', 'x')).toEqual([]);
  });
  it('gives up (null) where the arguments do not tell the keys', () => {
    expect(keys('ZUNIONSTORE', 'd', '2', 'a', 'b')).toBeNull();
    for (const name of ['EXEC', 'EVAL', 'FCALL', 'FLUSHALL', 'FLUSHDB', 'SWAPDB']) expect(keys(name, 'x')).toBeNull();
  });
  it('finds the streams of XREAD and XREADGROUP after STREAMS, past options named like the keyword', () => {
    expect(keys('XREAD', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', 'a', 'b', '$', '0')).toEqual(['a', 'b']);
    expect(keys('XREADGROUP', 'GROUP', 'streams', 'streams', 'COUNT', '10', 'STREAMS', 's', '>')).toEqual(['s']);
    expect(keys('xreadgroup', 'GROUP', 'g', 'c', 'NOACK', 'streams', 'block', '0')).toEqual(['block']);
    expect(keys('XREAD', 'STREAMS', 'a', 'b', '0')).toBeNull();
    expect(keys('XREAD', 'COUNT', '1')).toBeNull();
  });
  it('MOVE and COPY name their keys: in the other database the key keeps its name, and triggers match names', () => {
    expect(keys('MOVE', 'k', '1')).toEqual(['k']);
    expect(keys('COPY', 'a', 'b', 'DB', '2')).toEqual(['a', 'b']);
  });
  it('knows which commands (and subcommands) the server flags readonly', () => {
    expect(table.isReadOnly(args('XRANGE', 's', '-', '+'))).toBe(true);
    expect(table.isReadOnly(args('XINFO', 'STREAM', 's'))).toBe(true);
    expect(table.isReadOnly(args('SET', 'k', 'v'))).toBe(false);
    expect(table.isReadOnly(args('NOSUCH'))).toBe(false);
  });
  it('knows which client commands may block the connection: flagged blocking (XREAD only with BLOCK), and WAIT', () => {
    expect(table.mayBlock(args('BLPOP', 'l', '0'))).toBe(true);
    expect(table.mayBlock(args('XREAD', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', 's', '$'))).toBe(true);
    expect(table.mayBlock(args('XREAD', 'STREAMS', 'block', '0'))).toBe(false);
    // A group or consumer named "block" is not the option: the server serves these at once.
    expect(table.mayBlock(args('XREADGROUP', 'GROUP', 'block', 'c', 'STREAMS', 's', '>'))).toBe(false);
    expect(table.mayBlock(args('XREADGROUP', 'GROUP', 'g', 'BLOCK', 'STREAMS', 's', '>'))).toBe(false);
    expect(table.mayBlock(args('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '10', 'STREAMS', 's', '>'))).toBe(true);
    expect(table.mayBlock(args('WAIT', '1', '0'))).toBe(true);
    expect(table.mayBlock(args('GET', 'k'))).toBe(false);
  });
  it('takes BLOCK out of XREAD and XREADGROUP, and only a BLOCK option whose timeout the server takes as written', () => {
    const cases: [string[], string[] | null][] = [
      [['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'], ['XREAD', 'STREAMS', 's', '$']],
      [['xread', 'COUNT', '5', 'block', '1500', 'STREAMS', 'a', 'b', '0', '0'], ['xread', 'COUNT', '5', 'STREAMS', 'a', 'b', '0', '0']],
      // A group and a consumer named like the keyword; a stream named BLOCK.
      [['XREADGROUP', 'GROUP', 'block', 'BLOCK', 'BLOCK', '10', 'NOACK', 'STREAMS', 'BLOCK', '>'], ['XREADGROUP', 'GROUP', 'block', 'BLOCK', 'NOACK', 'STREAMS', 'BLOCK', '>']],
      [['XREAD', 'STREAMS', 'BLOCK', '0'], null],
      [['XREAD', 'COUNT', 'BLOCK', 'STREAMS', 's', '0'], null],
      [['XREAD', 'BLOCK', '-1', 'STREAMS', 's', '0'], null],
      [['XREAD', 'BLOCK', '1e3', 'STREAMS', 's', '0'], null],
      [['XREAD', 'BLOCK', '99999999999999999999', 'STREAMS', 's', '0'], null],
      [['XREAD', 'BLOCK', '10'], null],
      [['BLPOP', 'BLOCK', '0'], null],
    ];
    for (const [command, expected] of cases) expect(withoutBlock(args(...command))?.map(String) ?? null, command.join(' ')).toEqual(expected);
  });

  it('gives the refusals RM_Call gives library code', () => {
    expect(table.refusal(args('NOSUCH'), { noWrites: false })).toBe("ERR Unknown Redis command 'NOSUCH'.");
    expect(table.refusal(args('GET'), { noWrites: false })).toBe("ERR Wrong number of args calling Redis command 'GET'.");
    expect(table.refusal(args('WAIT', '1', '0'), { noWrites: false })).toBe("ERR command 'wait' is not allowed on script mode");
    expect(table.refusal(args('BLPOP', 'l', '0'), { noWrites: false })).toBeNull();
    expect(table.refusal(args('SET', 'k', 'v'), { noWrites: true })).toBe("ERR Write command 'set' was called while write is not allowed.");
    expect(table.isBlocking(args('XREAD', 'STREAMS', 's', '0'))).toBe(true);
  });
  it('checks arity', () => {
    expect(table.hasWrongArity(args('SUBSCRIBE'))).toBe(true);
    expect(table.hasWrongArity(args('SUBSCRIBE', 'c'))).toBe(false);
  });
});
