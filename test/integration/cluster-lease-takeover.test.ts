/**
 * A cluster node's lease (runtime/runtime-lease.ts) is named with the tag of a slot the node serves: the one
 * already on the node, else its lowest slot's. A runtime may hold one under another tag (slots migrated in since it
 * took it, or a lease it took over). After a FLUSHALL straight on the node, a second runtime finds no lease and
 * takes the lowest slot's: the first one must not take its own old name again at its next refresh, or both hold a
 * lease and both fire every trigger. It looks the key up again, as a starting runtime does, finds the second
 * one's, and closes.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntimeCluster, type RuntimeCluster } from '../helpers/redis-cluster.js';
import { connectTestClient } from '../helpers/redis-client.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { runtimeLeaseKeyOfNode, RUNTIME_LEASE_KEY } from '../../src/shared/keys.js';
import { lowestSlot, myselfOf } from '../../src/shared/cluster-nodes.js';
import { slotTag } from '../../src/shared/key-slot.js';
import { eventually } from './gears-support.js';

type Client = ReturnType<typeof createClient>;

let cluster: RuntimeCluster;
const clients: Array<{ close(): Promise<unknown> }> = [];

beforeAll(async () => {
  cluster = await startRuntimeCluster(3);
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await cluster?.close();
}, 30_000);

/** Resolves at the next refresh of `key` (the `expire` its holder's PEXPIRE raises). */
async function nextRefresh(watcher: Client, key: string): Promise<void> {
  const channel = `__keyspace@0__:${key}`;
  const seen = new Promise<void>((resolve) => {
    void watcher.subscribe(channel, (event) => {
      if (event === 'expire') resolve();
    });
  });
  await seen;
  await watcher.unsubscribe(channel);
}

describe('a node runtime holding its lease under another tag than its lowest slot’s', () => {
  it('after a FLUSHALL straight on the node and a second runtime’s start, closes at its next refresh, leaving one lease on the node', async () => {
    const shard = cluster.shards[1]!;
    const node = await connectTestClient(shard.server.url, clients);
    const watcher = await connectTestClient(shard.server.url, clients);
    const myself = myselfOf(String(await node.sendCommand(['CLUSTER', 'NODES'])))!;
    const lowest = lowestSlot(myself)!;
    const other = runtimeLeaseKeyOfNode(myself.id, slotTag(lowest + 1));
    // The node's runtime restarted over a lease under the other tag, left by a runtime of another server process
    // (taken over at once): it holds that name from then on.
    await cluster.restartRuntime(1, async () => {
      await node.set(other, 'pid 1 on host gone, port 1, since then (0) [server 0000]', { PX: 60_000 });
    });
    const first = shard.runtime;
    expect(await node.get(other)).toContain(`port ${first.port}`);
    const lost = new Promise<Error>((resolve) => first.on('error', resolve));
    await nextRefresh(watcher, other);
    await node.flushAll();
    // Started, it took its lease before the first one's next refresh: had that refresh come first, the first one
    // would hold a lease again (its old name, or the lowest slot's) and this start would be refused.
    const second = await Runtime.start({ redisUrl: shard.server.url, port: 0 });
    try {
      const leases = (await node.keys(`${RUNTIME_LEASE_KEY}:*`)) as string[];
      expect(leases).toEqual([runtimeLeaseKeyOfNode(myself.id, slotTag(lowest))]);
      expect(await node.get(leases[0]!)).toContain(`port ${second.port}`);
      expect((await Promise.race([lost, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 3000))])).toString()).toMatch(/another runtime already runs/);
      await eventually(async () => expect(await node.keys(`${RUNTIME_LEASE_KEY}:*`)).toEqual(leases));
      expect(await node.get(leases[0]!)).toContain(`port ${second.port}`);
    } finally {
      await second.close();
    }
  });
});
