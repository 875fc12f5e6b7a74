import { describe, expect, it } from 'vitest';
import { integer, error } from '../resp/types.js';
import { parseClientList, planClientKill, sumKillReplies } from './client-kill.js';

const args = (...words: string[]) => words.map((w) => Buffer.from(w));
const clients = parseClientList({
  type: 'blob',
  value: Buffer.from('id=3 addr=127.0.0.1:5001 name=a\nid=4 addr=127.0.0.1:5002 name=\nid=7 addr=127.0.0.1:5003 name=\n'),
});
const own = new Set([3, 4]);
const text = (plan: ReturnType<typeof planClientKill>) => (plan.kind === 'per-client' ? plan.commands.map((c) => c.map((a) => a.toString()).join(' ')) : plan);

describe('planClientKill', () => {
  const cases: [string, string[], unknown][] = [
    ['old form naming an own connection: as for an unknown address', ['CLIENT', 'KILL', '127.0.0.1:5001'], { kind: 'reply', reply: error('ERR No such client') }],
    ['old form naming another client: passed through', ['CLIENT', 'KILL', '127.0.0.1:5003'], { kind: 'pass' }],
    ['ID of an own connection: kills nothing', ['client', 'kill', 'id', '4'], { kind: 'reply', reply: integer(0) }],
    ['ID of another client: passed through', ['CLIENT', 'KILL', 'ID', '7', 'SKIPME', 'no'], { kind: 'pass' }],
    ['filters: once per other client with its ID', ['CLIENT', 'KILL', 'SKIPME', 'YES'], ['CLIENT KILL SKIPME YES ID 7']],
    ['a filter without its value: the server’s syntax error', ['CLIENT', 'KILL', 'TYPE'], { kind: 'pass' }],
  ];
  for (const [title, input, expected] of cases) {
    it(title, () => expect(text(planClientKill(args(...input), own, clients))).toEqual(expected));
  }

  it('sums the counts, or gives the first error', () => {
    expect(sumKillReplies([integer(1), integer(0), integer(1)])).toEqual(integer(2));
    expect(sumKillReplies([integer(1), error('ERR syntax error')])).toEqual(error('ERR syntax error'));
  });
});
