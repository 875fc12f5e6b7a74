/**
 * Cluster mode of the runtime: on when its redis-server is a cluster node (`cluster_enabled:1`). The cluster
 * must announce the runtime, not the server (`cluster-announce-port`, docs/scale-out.md); when it does not,
 * clients following CLUSTER SLOTS or MOVED would bypass the runtime and no trigger would fire, so the runtime
 * says so at start. Where CONFIG is renamed away or denied, the port the node announces is read from its own
 * line of CLUSTER NODES instead (Redis puts `cluster-announce-port` there, or its own port when unset).
 */
import type { Logger } from '../../shared/log.js';
import { myselfOf } from '../../shared/cluster-nodes.js';
import { sendConfig } from '../server/config-command.js';
import type { RedisConnection } from '../server/redis-connection.js';
import { isClusterEnabled, text } from './cluster-nodes.js';

export async function isClusterNode(control: RedisConnection): Promise<boolean> {
  return isClusterEnabled(text(await control.call(['INFO', 'cluster'])));
}

/** Logs a warning when the server does not announce `runtimePort` to the cluster. */
export async function warnUnlessAnnounced(control: RedisConnection, runtimePort: number, log: Logger): Promise<void> {
  const got = await sendConfig(control, ['GET', 'cluster-announce-port']);
  const announced = 'unavailable' in got ? announcedPortOfMyself(text(await control.call(['CLUSTER', 'NODES']))) : (got.entries.get('cluster-announce-port') ?? '');
  if (announced !== String(runtimePort)) {
    log.warn({ announcedPort: announced, runtimePort }, 'cluster mode: the redis-server does not announce this runtime (set cluster-announce-port to the runtime port), so cluster clients will bypass it and triggers will not fire for their writes');
  }
}

/** The port in this node's own `ip:port@cport` of CLUSTER NODES, '' without a `myself` line. */
export function announcedPortOfMyself(clusterNodes: string): string {
  const address = myselfOf(clusterNodes)?.address ?? '';
  return address.slice(address.lastIndexOf(':') + 1);
}
