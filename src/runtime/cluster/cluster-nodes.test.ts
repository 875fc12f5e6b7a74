import { describe, expect, it } from 'vitest';
import { array, blob, integer } from '../resp/types.js';
import { isClusterEnabled, lowestServedSlot, myPrimaryId, otherNodes, servingNodeIds } from './cluster-nodes.js';

describe('cluster views', () => {
  it('reads cluster_enabled from INFO cluster', () => {
    expect(isClusterEnabled('# Cluster\r\ncluster_enabled:1\r\n')).toBe(true);
    expect(isClusterEnabled('# Cluster\r\ncluster_enabled:0\r\n')).toBe(false);
  });

  it('finds the lowest slot of the myself line, ignoring migrating and importing markers', () => {
    const nodes = [
      'a1 127.0.0.1:7001@17001 master - 0 0 1 connected 0-5460',
      'b2 127.0.0.1:7002@17002 myself,master - 0 0 2 connected [5460->-a1] 10923 5461-10922 [12-<-a1]',
      '',
    ].join('\n');
    expect(lowestServedSlot(nodes)).toBe(5461);
    expect(lowestServedSlot('c3 127.0.0.1:7003@17003 myself,master - 0 0 0 connected\n')).toBeNull();
  });

  it("reads the primary a replica's myself line names, and which nodes serve slots", () => {
    const nodes = [
      'a1 127.0.0.1:7001@17001 master,fail - 0 0 1 connected',
      'b2 127.0.0.1:7002@17002 myself,slave c3 0 0 2 connected',
      'c3 127.0.0.1:7003@17003 master - 0 0 3 connected 0-5460 [12-<-a1]',
      'd4 127.0.0.1:7004@17004 master - 0 0 4 connected [5460->-a1]',
      '',
    ].join('\n');
    expect(myPrimaryId(nodes)).toBe('c3');
    expect(myPrimaryId(nodes.replace('myself,slave c3', 'myself,master -'))).toBeNull();
    expect(servingNodeIds(nodes)).toEqual(new Set(['c3']));
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
