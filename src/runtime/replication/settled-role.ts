/**
 * A cluster node's role is not settled while it is a primary that, in its own view, serves slots but whose
 * cluster state is `fail`. That is how an old primary comes back after a failover: its nodes.conf names it the
 * owner of its old slots until the cluster's gossip tells it that its replica took them, and then it turns
 * into the new primary's replica. Redis keeps such a node unwritable for 2 s (its CLUSTER_WRITABLE_DELAY) so
 * that the cluster can reconfigure it first. A runtime that started in that window would take the node for a
 * primary: restore its libraries and stream positions (refused, CLUSTERDOWN, so its start failed) and run its
 * stream triggers on data the new primary never sees. So the runtime waits until the node is a replica, serves
 * no slot (a new node, or one emptied by a resharding), or its cluster state is `ok`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../shared/log.js';
import { lowestServedSlot, text } from '../cluster/cluster-nodes.js';
import type { RedisConnection } from '../server/redis-connection.js';

/** How often a runtime asks an unsettled node again (Redis' own cluster cron runs every 100 ms). */
export const SETTLE_POLL_MS = 100;

/** Resolves once the role of the runtime's cluster node is settled (see the header). */
export async function untilRoleSettled(control: RedisConnection, log: Logger): Promise<void> {
  let waiting = false;
  for (;;) {
    const nodes = await control.send(['CLUSTER', 'NODES']);
    const info = await control.send(['CLUSTER', 'INFO']);
    if (nodes.type === 'error' || info.type === 'error') {
      log.warn({ err: nodes.type === 'error' ? nodes.value : info.type === 'error' ? info.value : '' }, 'CLUSTER NODES/INFO refused: the runtime cannot tell whether a restarted primary is about to become a replica; allow its user CLUSTER');
      return;
    }
    if (isSettled(text(nodes), text(info))) {
      if (waiting) log.info('cluster node settled: starting');
      return;
    }
    if (!waiting) log.info('cluster node believes itself a primary of slots but its cluster state is fail (restarted after a failover?): waiting until it is a replica or the cluster is ok');
    waiting = true;
    await sleep(SETTLE_POLL_MS);
  }
}

/** Whether CLUSTER NODES and CLUSTER INFO show a settled node (see the header). */
export function isSettled(clusterNodes: string, clusterInfo: string): boolean {
  const myself = clusterNodes.split('\n').find((line) => line.split(' ')[2]?.split(',').includes('myself'));
  if (myself === undefined || myself.split(' ')[2]!.split(',').includes('slave')) return true;
  return lowestServedSlot(clusterNodes) === null || /^cluster_state:ok\s*$/m.test(clusterInfo);
}
