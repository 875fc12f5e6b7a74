import { describe, expect, it } from 'vitest';
import { announcedPortOfMyself } from './cluster-mode.js';

describe('announcedPortOfMyself', () => {
  it('is the port of the myself line of CLUSTER NODES (cluster-announce-port when set)', () => {
    const nodes = [
      'b1c2 127.0.0.1:7801@17801 master - 0 1700000000000 2 connected 5461-10922',
      'a0f1 127.0.0.1:7716@7719 myself,master - 0 0 1 connected 0-5460',
      '',
    ].join('\n');
    expect(announcedPortOfMyself(nodes)).toBe('7716');
  });
  it('is empty without a myself line', () => {
    expect(announcedPortOfMyself('')).toBe('');
  });
});
