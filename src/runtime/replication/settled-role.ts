/**
 * A cluster node's role is not settled while it is a primary that, in its own view, serves slots but whose
 * cluster state is `fail`. That is how an old primary comes back after a failover: its nodes.conf names it the
 * owner of its old slots until the cluster's gossip tells it that its replica took them, and then it turns
 * into the new primary's replica. Redis keeps such a node unwritable for 2 s (its CLUSTER_WRITABLE_DELAY) so
 * that the cluster can reconfigure it first. A runtime that started in that window would take the node for a
 * primary: restore its libraries and stream positions (refused, CLUSTERDOWN, so its start failed) and run its
 * stream triggers on data the new primary never sees. So the runtime waits until the node is a replica, serves
 * no slot (a new node, or one emptied by a resharding), or its cluster state is `ok`.
 *
 * A replica's runtime then also waits for the link to its primary (`master_link_status:up`, at most
 * SYNC_WAIT_MS): until the first sync, the node holds its own old data, not its primary's library store, and
 * the runtime would start without the libraries its primary has.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../shared/log.js';
import { lowestServedSlot, myselfLine, text } from '../cluster/cluster-nodes.js';
import type { RedisConnection } from '../server/redis-connection.js';

/** How often a runtime asks an unsettled node again (Redis' own cluster cron runs every 100 ms). */
export const SETTLE_POLL_MS = 100;

/** How long a replica's runtime waits at start for its first sync before it starts with the store it has. */
export const SYNC_WAIT_MS = 10_000;

/** What CLUSTER NODES and CLUSTER INFO say of the node (see the header). */
export type NodeSettling = 'unsettled primary' | 'replica' | 'settled';

/** Resolves once the role of the runtime's cluster node is settled (see the header). */
export async function untilRoleSettled(control: RedisConnection, log: Logger): Promise<void> {
  let waiting = false;
  let replicaSince: number | undefined;
  for (;;) {
    const nodes = await control.send(['CLUSTER', 'NODES']);
    const info = await control.send(['CLUSTER', 'INFO']);
    if (nodes.type === 'error' || info.type === 'error') {
      log.warn({ err: nodes.type === 'error' ? nodes.value : info.type === 'error' ? info.value : '' }, 'CLUSTER NODES/INFO refused: the runtime cannot tell whether a restarted primary is about to become a replica; allow its user CLUSTER');
      return;
    }
    const settling = settlingOf(text(nodes), text(info));
    if (settling === 'settled') return;
    if (settling === 'replica') {
      if (/^master_link_status:up\s*$/m.test(text(await control.send(['INFO', 'replication'])))) return;
      replicaSince ??= Date.now();
      if (Date.now() - replicaSince >= SYNC_WAIT_MS) {
        log.warn({ waitedMs: SYNC_WAIT_MS }, 'replica not synced with its primary yet: starting with the library store it holds');
        return;
      }
    } else if (!waiting) {
      log.info('cluster node believes itself a primary of slots but its cluster state is fail (restarted after a failover?): waiting until it is a replica or the cluster is ok');
      waiting = true;
    }
    await sleep(SETTLE_POLL_MS);
  }
}

/** Where the node stands, from CLUSTER NODES and CLUSTER INFO (see the header). */
export function settlingOf(clusterNodes: string, clusterInfo: string): NodeSettling {
  const myself = myselfLine(clusterNodes);
  if (myself === undefined) return 'settled';
  if (myself.split(' ')[2]!.split(',').includes('slave')) return 'replica';
  return lowestServedSlot(clusterNodes) === null || /^cluster_state:ok\s*$/m.test(clusterInfo) ? 'settled' : 'unsettled primary';
}
