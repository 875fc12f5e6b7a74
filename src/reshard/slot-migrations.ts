/**
 * The slots of a Redis Cluster in the middle of a move: MIGRATING on a source, IMPORTING on a destination
 * (each primary reports only its own, in the `myself` line of its CLUSTER NODES). `writebehind status` warns
 * about them: while a slot holding a capture log moves, a write can go uncaptured (docs/scale-out.md, slot
 * migration), and a move left half done keeps that window open.
 */
import type { ClusterAdmin } from './cluster-admin.js';

export interface SlotMigration {
  readonly slot: number;
  readonly state: 'migrating' | 'importing';
  /** The primary reporting it (`host:port`). */
  readonly node: string;
  /** The other end: where it migrates to, or where it imports from (`host:port`, or the node id if unknown). */
  readonly peer: string;
}

export async function slotMigrations(admin: ClusterAdmin): Promise<SlotMigration[]> {
  const nodes = await admin.topology();
  const addressOf = (id: string) => nodes.find((node) => node.id === id)?.address ?? id;
  const found: SlotMigration[] = [];
  for (const primary of nodes.filter((node) => node.primary)) {
    const self = await admin.selfOf(primary.address);
    for (const [slot, peer] of self.migrating) found.push({ slot, state: 'migrating', node: primary.address, peer: addressOf(peer) });
    for (const [slot, peer] of self.importing) found.push({ slot, state: 'importing', node: primary.address, peer: addressOf(peer) });
  }
  return found.sort((a, b) => a.slot - b.slot || a.state.localeCompare(b.state));
}
