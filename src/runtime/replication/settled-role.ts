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
 *
 * Two looks of the node can disagree, and a look can come while the node cannot answer:
 * - The old primary turns replica when the gossip reaches it, which can fall between its CLUSTER NODES (still
 *   the primary of its slots) and its CLUSTER INFO (a replica's cluster state is `ok` at once): that reads as a
 *   settled primary, so the runtime asks ROLE last, and a node that says `slave` there is a replica (its link
 *   is waited for). A node turns from primary into replica here, never back without a failover, so a ROLE
 *   `master` after an `ok` means the node was an ok primary.
 * - A replica loading its primary's dataset (the first sync) refuses CLUSTER NODES and CLUSTER INFO with
 *   `LOADING`; so do a primary loading its own at start. The runtime waits until the data is loaded (however
 *   long that takes: nothing it would read before is the node's), instead of starting with no store to read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../shared/log.js';
import { myselfOf } from '../../shared/cluster-nodes.js';
import { text } from '../cluster/cluster-nodes.js';
import type { RedisConnection } from '../server/redis-connection.js';
import type { RespValue } from '../resp/types.js';
import { roleOf } from './server-role.js';

/** How often a runtime asks an unsettled node again (Redis' own cluster cron runs every 100 ms). */
export const SETTLE_POLL_MS = 100;

/** How long a replica's runtime waits at start for its first sync before it starts with the store it has. */
export const SYNC_WAIT_MS = 10_000;

/** What CLUSTER NODES and CLUSTER INFO say of the node (see the header). */
export type NodeSettling = 'unsettled primary' | 'replica' | 'settled';

/** Resolves once the role of the runtime's cluster node is settled (see the header). */
export async function untilRoleSettled(control: RedisConnection, log: Logger): Promise<void> {
  let waiting = false;
  let loading = false;
  let replicaSince: number | undefined;
  for (;;) {
    const nodes = await control.send(['CLUSTER', 'NODES']);
    const info = await control.send(['CLUSTER', 'INFO']);
    if (isLoading(nodes) || isLoading(info)) {
      if (!loading) log.info('redis-server is loading its dataset: waiting until it has');
      loading = true;
    } else if (nodes.type === 'error' || info.type === 'error') {
      log.warn({ err: nodes.type === 'error' ? nodes.value : info.type === 'error' ? info.value : '' }, 'CLUSTER NODES/INFO refused: the runtime cannot tell whether a restarted primary is about to become a replica; allow its user CLUSTER');
      return;
    } else {
      let settling = settlingOf(text(nodes), text(info));
      if (settling === 'settled' && (await saysReplica(control))) settling = 'replica';
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
    }
    await sleep(SETTLE_POLL_MS);
  }
}

/** ROLE says `slave` (a refused ROLE says nothing: the runtime start reports it). */
async function saysReplica(control: RedisConnection): Promise<boolean> {
  const reply = await control.send(['ROLE']);
  return reply.type !== 'error' && roleOf(reply) === 'replica';
}

function isLoading(reply: RespValue): boolean {
  return reply.type === 'error' && reply.value.startsWith('LOADING');
}

/** Where the node stands, from CLUSTER NODES and CLUSTER INFO (see the header). */
export function settlingOf(clusterNodes: string, clusterInfo: string): NodeSettling {
  const myself = myselfOf(clusterNodes);
  if (myself === undefined) return 'settled';
  if (myself.replica) return 'replica';
  return myself.slots.length === 0 || /^cluster_state:ok\s*$/m.test(clusterInfo) ? 'settled' : 'unsettled primary';
}
