/**
 * The lease's "sure" state against events on its key (RuntimeLease.noteEvent): an event that may give the lease
 * another holder makes it unsure, and only a refresh sent after the event makes it sure again. A refresh in
 * flight when the event comes may have run before another runtime's SET (after a DEL), so its "still yours" must
 * not count. The integration side (a real second runtime) is test/integration/runtime-lease-takeover.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { RuntimeLease } from './runtime-lease.js';
import { array, blob, integer, type RespValue } from './resp/types.js';
import type { RedisConnection } from './server/redis-connection.js';
import { silentLogger } from '../shared/log.js';

/** A control connection whose refreshes answer only when the test says; `sent` holds each refresh's key and ARGV[4]. */
function fakeControl() {
  const refreshes: ((reply: RespValue) => void)[] = [];
  const sent: [string, string][] = [];
  const control = {
    call(args: string[]): Promise<RespValue> {
      if (args[0] === 'INFO') return Promise.resolve(blob('run_id:abc\r\n'));
      if (args[1]!.includes("'PTTL'")) return Promise.resolve(array([integer(1)])); // TAKE: taken
      sent.push([args[3]!, args[7]!]);
      return new Promise((resolve) => refreshes.push(resolve));
    },
  };
  return { control: control as unknown as RedisConnection, refreshes, sent };
}

async function take(control: RedisConnection, key: () => Promise<string> = async () => 'lease'): Promise<RuntimeLease> {
  return RuntimeLease.take({ control, key, port: 1, where: 'test', log: silentLogger, onLost: () => undefined });
}

/** Lets the confirm's queued refresh be sent. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('RuntimeLease and events on its key', () => {
  it('a del or set makes a fresh lease unsure; its refresh’s own expire and keymiss do not', async () => {
    const { control } = fakeControl();
    const lease = await take(control);
    try {
      expect(lease.current).toBe(true);
      lease.noteEvent({ event: 'expire' });
      lease.noteEvent({ event: 'keymiss' });
      expect(lease.current).toBe(true);
      lease.noteEvent({ event: 'del' });
      expect(lease.current).toBe(false);
    } finally {
      void lease.release();
    }
  });

  it('a refresh in flight when an event comes does not make it sure again; the next refresh, sent after, does', async () => {
    const { control, refreshes } = fakeControl();
    const lease = await take(control);
    try {
      lease.noteEvent({ event: 'del' });
      const first = lease.confirm();
      await turn();
      expect(refreshes).toHaveLength(1);
      lease.noteEvent({ event: 'set' });
      refreshes.shift()!(integer(1));
      await first;
      expect(lease.current).toBe(false);
      expect(lease.lost).toBe(false);
      const second = lease.confirm();
      await turn();
      refreshes.shift()!(integer(1));
      await second;
      expect(lease.current).toBe(true);
    } finally {
      void lease.release();
    }
  });

  it('a lease found gone is looked up again before it is taken (a cluster node’s name may have changed), and unsure until then', async () => {
    const { control, refreshes, sent } = fakeControl();
    const names = ['lease:{a}', 'lease:{b}'];
    const lease = await take(control, async () => names.shift()!);
    try {
      lease.noteEvent({ event: 'del' });
      const confirmed = lease.confirm();
      await turn();
      refreshes.shift()!(integer(0)); // gone, not taken
      await turn();
      expect(lease.current).toBe(false);
      refreshes.shift()!(integer(2)); // taken under the name looked up again
      await confirmed;
      expect(sent).toEqual([['lease:{a}', '0'], ['lease:{b}', '1']]);
      expect(lease.current).toBe(true);
    } finally {
      void lease.release();
    }
  });
});
