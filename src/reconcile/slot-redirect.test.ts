import { describe, expect, it } from 'vitest';
import { slotRedirectOf } from './slot-redirect.js';

describe('the redirect a refused MULTI met', () => {
  it('finds MOVED, ASK (with the node it names) and TRYAGAIN in the error or its causes; anything else is none', () => {
    const execAbort = new Error('EXECABORT Transaction discarded because of previous errors. (ASK 1538 127.0.0.1:6583)');
    expect(slotRedirectOf(execAbort)).toEqual({ kind: 'migrating', reply: 'ASK 1538 127.0.0.1:6583', to: '127.0.0.1:6583' });
    expect(slotRedirectOf(new Error('wrapped', { cause: new Error('MOVED 5621 127.0.0.1:6586') }))).toEqual({ kind: 'moved', reply: 'MOVED 5621 127.0.0.1:6586' });
    expect(slotRedirectOf(new Error('TRYAGAIN Multiple keys request during rehashing of slot'))).toMatchObject({ kind: 'migrating' });
    expect(slotRedirectOf(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBeUndefined();
    expect(slotRedirectOf(new Error('connection closed'))).toBeUndefined();
  });
});
