import { describe, expect, it } from 'vitest';
import { isSettled } from './settled-role.js';

const line = (flags: string, slots: string) => `abc 127.0.0.1:7001@17001 ${flags} - 0 0 2 connected ${slots}`.trim();

describe('isSettled', () => {
  it('waits only for a primary that serves slots while its cluster state is fail', () => {
    expect(isSettled(line('myself,master', '5461-10922'), 'cluster_state:fail\r\n')).toBe(false);
    expect(isSettled(line('myself,master', '5461-10922'), 'cluster_state:ok\r\n')).toBe(true);
    expect(isSettled(line('myself,slave', ''), 'cluster_state:fail\r\n')).toBe(true);
    expect(isSettled(line('myself,master', ''), 'cluster_state:fail\r\n')).toBe(true);
  });
});
