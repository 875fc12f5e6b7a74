import { describe, expect, it } from 'vitest';
import { CommandTable } from '../command-table.js';
import { array, blob, integer, simple, type RespValue } from '../resp/types.js';
import { route, type Route, type RouterState } from './router.js';

function entry(name: string, arity: number, flags: string[], first: number, last: number, step: number, subcommands: RespValue[] = []): RespValue {
  return array([blob(name), integer(arity), array(flags.map(simple)), integer(first), integer(last), integer(step), array([]), array([]), array([]), array(subcommands)]);
}

const table = CommandTable.fromCommandReply(
  array([
    entry('set', -3, ['write'], 1, 1, 1),
    entry('get', 2, ['readonly'], 1, 1, 1),
    entry('hset', -4, ['write'], 1, 1, 1),
    entry('xrange', -4, ['readonly'], 1, 1, 1),
    entry('blpop', -3, ['write', 'noscript', 'blocking'], 1, -2, 1),
    entry('xread', -4, ['readonly', 'blocking', 'movablekeys'], 0, 0, 0),
    entry('eval', -3, ['noscript', 'movablekeys'], 0, 0, 0),
    entry('ping', -1, [], 0, 0, 0),
  ]),
);
/** Keys under `person:` fire a keyspace trigger; `stream:` only a stream trigger (new entries, so not for reads). */
const isRelevant = (key: Buffer, readOnly: boolean) => key.toString().startsWith('person:') || (!readOnly && key.toString().startsWith('stream:'));
const idle: RouterState = { rawMode: false, inMulti: false };
const inMulti: RouterState = { rawMode: false, inMulti: true };
const raw: RouterState = { rawMode: true, inMulti: false };

const cases: [string, RouterState, Route][] = [
  ['GET other:1', idle, 'shared'],
  ['SET other:1 v', idle, 'shared'],
  ['HSET person:1 name x', idle, 'markered'],
  ['GET person:1', idle, 'markered'],
  ['XRANGE stream:1 - +', idle, 'shared'],
  ['SET stream:1 v', idle, 'markered'],
  ['EVAL return 0', idle, 'markered'],
  ['TFCALL lib.fn 0', idle, 'gears'],
  ['TFUNCTION LIST', idle, 'gears'],
  ['TFCALL lib.fn 0', inMulti, 'queue-gears'],
  ['HSET person:1 name x', inMulti, 'shared'],
  ['EXEC', inMulti, 'exec'],
  ['SELECT 1', inMulti, 'tracked'],
  ['AUTH user pass', idle, 'tracked'],
  ['HELLO 3', idle, 'tracked'],
  ['MULTI', idle, 'tracked'],
  ['SUBSCRIBE c', idle, 'pubsub'],
  ['MONITOR', idle, 'monitor'],
  ['GET person:1', raw, 'raw'],
  ['CLIENT REPLY OFF', idle, 'client-reply'],
  ['CLIENT REPLY NEVER', idle, 'shared'],
  ['SYNC', idle, 'replication'],
  ['PSYNC ? -1', idle, 'replication'],
  ['SCRIPT KILL', idle, 'unlocked'],
  ['FUNCTION KILL', idle, 'unlocked'],
  ['CLIENT UNPAUSE', idle, 'unlocked'],
  ['CLIENT PAUSE 100 WRITE', idle, 'unlocked'],
  ['CLIENT PAUSE 100 WRITE extra', idle, 'shared'],
  ['CLIENT KILL ID 7', idle, 'client-kill'],
  ['SLOWLOG GET 10', idle, 'introspect'],
  ['PUBSUB NUMPAT', idle, 'introspect'],
  ['PUBSUB CHANNELS', idle, 'introspect'],
  ['BLPOP other:l 0', idle, 'blocking'],
  ['XREAD BLOCK 0 STREAMS s $', idle, 'blocking'],
  ['XREAD STREAMS other:s 0', idle, 'shared'], // movable keys, but its streams follow STREAMS
  ['XREAD STREAMS person:s 0', idle, 'markered'], // a read of a watched key may raise keymiss
  ['XREAD STREAMS a 0 0', idle, 'markered'], // malformed (odd count): keys unknown
  ['NOSUCH x', idle, 'shared'],
];

describe('route', () => {
  it.each(cases)('%s (%o) → %s', (line, state, expected) => {
    const args = line.split(' ').map((word) => Buffer.from(word));
    expect(route({ name: line.split(' ')[0]!.toLowerCase(), args }, state, { table, isRelevant })).toBe(expected);
  });
});
