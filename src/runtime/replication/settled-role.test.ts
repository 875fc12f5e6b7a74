import { describe, expect, it } from 'vitest';
import { settlingOf } from './settled-role.js';

const line = (flags: string, slots: string) => `abc 127.0.0.1:7001@17001 ${flags} - 0 0 2 connected ${slots}`.trim();

describe('settlingOf', () => {
  it('holds back only a primary that serves slots while its cluster state is fail, and a replica', () => {
    expect(settlingOf(line('myself,master', '5461-10922'), 'cluster_state:fail\r\n')).toBe('unsettled primary');
    expect(settlingOf(line('myself,master', '5461-10922'), 'cluster_state:ok\r\n')).toBe('settled');
    expect(settlingOf(line('myself,master', ''), 'cluster_state:fail\r\n')).toBe('settled');
    expect(settlingOf(line('myself,slave', ''), 'cluster_state:ok\r\n')).toBe('replica');
  });
});
