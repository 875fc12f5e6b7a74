import { describe, expect, it } from 'vitest';
import { array, blob, integer } from '../resp/types.js';
import { isClusterEnabled, otherNodes } from './cluster-nodes.js';

describe('cluster views', () => {
  it('reads cluster_enabled from INFO cluster', () => {
    expect(isClusterEnabled('# Cluster\r\ncluster_enabled:1\r\n')).toBe(true);
    expect(isClusterEnabled('# Cluster\r\ncluster_enabled:0\r\n')).toBe(false);
  });

  it('lists the other nodes of CLUSTER SHARDS (RESP2) at their announced address, replicas too', () => {
    const node = (id: string, port: number, role: string) =>
      array([blob('id'), blob(id), blob('port'), integer(port), blob('ip'), blob('127.0.0.1'), blob('endpoint'), blob('127.0.0.1'), blob('role'), blob(role)]);
    const shard = (...nodes: ReturnType<typeof node>[]) => array([blob('slots'), array([]), blob('nodes'), array(nodes)]);
    const reply = array([shard(node('me', 7001, 'master'), node('r1', 7004, 'replica')), shard(node('p2', 7002, 'master')), shard(node('p3', 7003, 'master'))]);
    expect(otherNodes(reply, 'me')).toEqual([
      { id: 'r1', host: '127.0.0.1', port: 7004, primary: false },
      { id: 'p2', host: '127.0.0.1', port: 7002, primary: true },
      { id: 'p3', host: '127.0.0.1', port: 7003, primary: true },
    ]);
  });
});
