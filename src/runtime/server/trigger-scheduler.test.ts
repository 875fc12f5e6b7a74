import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log.js';
import type { GearsHost } from '../gears-host.js';
import type { KeyspaceSubscriber } from './keyspace-subscriber.js';
import type { RedisConnection } from './redis-connection.js';
import { TriggerScheduler } from './trigger-scheduler.js';

describe('TriggerScheduler.collectEvents', () => {
  it('a subscription that fails while the marker is being published is a rejection of the call, not an unhandled one', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failure = new Error('keyspace subscription connection closed');
      // The PUBLISH on the control connection answers only after the subscription has failed.
      const control = { call: () => new Promise((resolve) => setTimeout(() => resolve({ type: 'integer', value: 1 }), 50)) };
      const subscriber = { nextMarker: () => 1, waitForMarker: () => Promise.reject(failure), cancel: () => undefined };
      const scheduler = new TriggerScheduler({ control: control as unknown as RedisConnection, keysOf: () => null, markerChannel: 'm', log: silentLogger });
      scheduler.attach({} as GearsHost, subscriber as unknown as KeyspaceSubscriber);
      await expect(scheduler.collectEvents()).rejects.toBe(failure);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
