import { describe, expect, it } from 'vitest';
import { ownerOfSlot, parseClusterNodes, slotsOf } from './cluster-topology.js';

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
});
