import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log.js';
import type { GearsHost, KeyspaceEvent } from '../gears-host.js';
import type { RespValue } from '../resp/types.js';
import type { KeyspaceSubscriber } from './keyspace-subscriber.js';
import type { RedisConnection } from './redis-connection.js';
import { sendFenced } from './marker-fence.js';
import { TriggerScheduler } from './trigger-scheduler.js';
import type { UpstreamLink } from './upstream-link.js';

const HSET: KeyspaceEvent = { db: 0, event: 'hset', key: Buffer.from('person:1') };
const EXPIRED: KeyspaceEvent = { db: 0, event: 'expired', key: Buffer.from('person:2') };
const KEYMISS: KeyspaceEvent = { db: 0, event: 'keymiss', key: Buffer.from('person:1') };

/**
 * A subscriber whose marker `seq` has already arrived with `events` (the subscription is read before the
 * command's own connection), and a link whose replies are lost: the client closed its connection.
 */
function fencedWithLostReplies(eventsBySeq: Map<number, KeyspaceEvent[]>) {
  let next = 1;
  const givenBack: KeyspaceEvent[] = [];
  const subscriber = {
    nextMarker: () => next++,
    waitForMarker: (seq: number) => Promise.resolve(eventsBySeq.get(seq) ?? []),
    // The waiter was resolved already: nothing to cancel.
    cancel: () => false,
    pumpUntilMarker: () => true,
    giveBack: (events: readonly KeyspaceEvent[]) => givenBack.push(...events),
  };
  const closed = new Error('client connection closed');
  const link = {
    expectValue: () => {
      const reply = Promise.reject(closed) as Promise<RespValue>;
      reply.catch(() => undefined);
      return reply;
    },
    write: () => undefined,
    pumpReplies: () => undefined,
    pending: 0,
  };
  const scheduler = new TriggerScheduler({ control: {} as RedisConnection, keysOf: () => null, markerChannel: 'm', log: silentLogger });
  scheduler.attach({} as GearsHost, subscriber as unknown as KeyspaceSubscriber);
  return { scheduler, link: link as unknown as UpstreamLink, givenBack };
}

describe('sendFenced', () => {
  it("gives a command's events back to the subscriber when its marker came but its reply was lost with the connection: the command ran, its triggers must still fire", async () => {
    const { scheduler, link, givenBack } = fencedWithLostReplies(new Map([[1, [HSET]]]));
    const fenced = sendFenced(scheduler, link, [Buffer.from('*1\r\n$4\r\nPING\r\n')]);
    await expect(fenced.events).rejects.toThrow('client connection closed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(givenBack).toEqual([HSET]);
  });

  it("gives back only the server's own events of a lost read-ahead: its keymiss is library work, an expiry it caused is not", async () => {
    const { scheduler, link, givenBack } = fencedWithLostReplies(new Map([[1, [HSET]], [2, [KEYMISS, EXPIRED]]]));
    const fenced = sendFenced(scheduler, link, [Buffer.from('*1\r\n$4\r\nPING\r\n')], undefined, [Buffer.from('HMGET'), Buffer.from('person:1'), Buffer.from('f')]);
    await expect(fenced.readAhead!.events).rejects.toThrow('client connection closed');
    await expect(fenced.events).rejects.toThrow('client connection closed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(givenBack).toEqual(expect.arrayContaining([HSET, EXPIRED]));
    expect(givenBack).toHaveLength(2);
  });
});
