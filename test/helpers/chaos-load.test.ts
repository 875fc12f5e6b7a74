/**
 * The chaos load never has two commands of one key in flight: its versions reach Redis in version order, so the
 * verdict's "applied out of order" can only be the write-behind's doing. With two in flight, a cluster client may
 * run them in Redis out of issue order (one redirected during a slot move, the next sent straight to the new
 * owner), and the write-behind then rightly applies them in Redis' order.
 */
import { expect, it } from 'vitest';
import type { RedisClientType } from 'redis';
import { ChaosLoad } from '../../bench/chaos/chaos-load.js';
import { sleep } from '../../bench/support/sleep.js';

it('issues a key\'s next command only once its previous one was answered', async () => {
  const inFlight = new Map<string, number>();
  let most = 0;
  let commands = 0;
  // Each command is answered 50 ms later: at 400/s over 3 keys, many would overlap.
  const answerLater = (key: string) => {
    commands++;
    const now = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, now);
    most = Math.max(most, now);
    return sleep(50).then(() => {
      inFlight.set(key, inFlight.get(key)! - 1);
      return 1;
    });
  };
  const client = { hSet: (key: string) => answerLater(key), del: (key: string) => answerLater(key) } as unknown as RedisClientType;
  const load = new ChaosLoad(client, 3, 400);
  load.start();
  await sleep(600);
  await load.stop();
  expect(commands).toBeGreaterThan(10);
  expect(most).toBe(1);
  for (const versions of load.replyOrder.values()) expect(versions).toEqual([...versions].sort((a, b) => a - b));
  expect(load.counts.issued).toBe(load.counts.acknowledged);
});
