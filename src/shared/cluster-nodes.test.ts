import { describe, expect, it } from 'vitest';
import { lowestSlot, myselfOf, ownerOfSlot, parseClusterNodes, slotsOf } from './cluster-nodes.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const R = 'c'.repeat(40);
const NODES = [
  `${A} 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5 8 [3->-${B}] [9-<-${B}]`,
  `${B} 127.0.0.1:7002@17002,host-b master - 0 1700000000000 2 connected 6-7 9-16383`,
  `${R} 127.0.0.1:7003@17003 slave ${A} 0 1700000000000 1 connected`,
  '',
].join('\n');

describe('parseClusterNodes', () => {
  it('reads ids, announced addresses, roles, slot ranges and the myself line\'s migrating/importing slots', () => {
    const [a, b, r] = parseClusterNodes(NODES);
    expect(a).toMatchObject({ id: A, address: '127.0.0.1:7001', primary: true, myself: true, slots: [[0, 5], [8, 8]] });
    expect([...a!.migrating]).toEqual([[3, B]]);
    expect([...a!.importing]).toEqual([[9, B]]);
    expect(b).toMatchObject({ address: '127.0.0.1:7002', primary: true, myself: false, slots: [[6, 7], [9, 16383]] });
    expect(r).toMatchObject({ primary: false, slots: [] });
  });

  it('finds the owner of a slot and lists a node\'s slots', () => {
    const nodes = parseClusterNodes(NODES);
    expect(ownerOfSlot(nodes, 3)?.id).toBe(A);
    expect(ownerOfSlot(nodes, 9)?.id).toBe(B);
    expect(slotsOf(nodes[0]!)).toEqual([0, 1, 2, 3, 4, 5, 8]);
  });

  it('finds the lowest served slot of the myself line, ignoring migrating and importing markers', () => {
    const nodes = [
      'a1 127.0.0.1:7001@17001 master - 0 0 1 connected 0-5460',
      'b2 127.0.0.1:7002@17002 myself,master - 0 0 2 connected [5460->-a1] 10923 5461-10922 [12-<-a1]',
      '',
    ].join('\n');
    expect(lowestSlot(myselfOf(nodes)!)).toBe(5461);
    expect(lowestSlot(myselfOf('c3 127.0.0.1:7003@17003 myself,master - 0 0 0 connected\n')!)).toBeNull();
  });

  it("reads the primary a replica names, '-' as none, and a failed primary as no primary", () => {
    const nodes = [
      'a1 127.0.0.1:7001@17001 master,fail - 0 0 1 connected',
      'b2 127.0.0.1:7002@17002 myself,slave c3 0 0 2 connected',
      'c3 127.0.0.1:7003@17003 master - 0 0 3 connected 0-5460 [12-<-a1]',
      'e5 127.0.0.1:7005@17005 slave - 0 0 5 connected',
      '',
    ].join('\n');
    const [a1, b2, c3, e5] = parseClusterNodes(nodes);
    expect(b2).toMatchObject({ myself: true, replica: true, replicaOf: 'c3', primary: false });
    expect(e5).toMatchObject({ replica: true, replicaOf: null });
    expect(c3).toMatchObject({ replica: false, replicaOf: null, primary: true });
    expect(a1).toMatchObject({ primary: false, slots: [] });
    expect(myselfOf(nodes)?.id).toBe('b2');
  });
});
