import { describe, expect, it } from 'vitest';
import { nodeCallError } from './node-call-error.js';

describe('nodeCallError', () => {
  it('tells to deploy again when the node\'s library lacks the function or takes other arguments', () => {
    for (const reply of ['Unknown function adopt', 'ERR ready: expected 2 keys and arguments (writer, maxDelayMs), got 3']) {
      const error = nodeCallError('WriteBehind.adopt', '127.0.0.1:7001', new Error(reply));
      expect(error.message).toBe(`TFCALL WriteBehind.adopt on 127.0.0.1:7001 failed: ${reply} (the library on 127.0.0.1:7001 is older than this worker: run writebehind deploy with this version)`);
    }
  });

  it('adds no hint to other failures, and keeps the cause', () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:7001');
    const error = nodeCallError('WriteBehind.ready', '127.0.0.1:7001', cause);
    expect(error.message).toBe('TFCALL WriteBehind.ready on 127.0.0.1:7001 failed: connect ECONNREFUSED 127.0.0.1:7001');
    expect(error.cause).toBe(cause);
  });
});
