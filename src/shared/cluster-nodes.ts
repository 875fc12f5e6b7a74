/**
 * A Redis Cluster as one node's `CLUSTER NODES` text describes it: each node's id, the address it announces
 * (the runtime's, when a runtime fronts it: docs/scale-out.md), its role and its slots; and, on the `myself`
 * line only (Redis prints them for no other node), the slots it is migrating or importing. The one parser of
 * that text for the CLI (reshard), the runtime (its node's role and slots) and the library (an importing slot).
 */
import { CLUSTER_SLOTS } from './key-slot.js';

export interface ClusterNodeEntry {
  readonly id: string;
  /** `host:port` as the cluster announces it (clients and MIGRATE use it). */
  readonly address: string;
  readonly primary: boolean;
  /** Flagged `slave`; `replicaOf` is the id of its primary, null while it names none (`-`). */
  readonly replica: boolean;
  readonly replicaOf: string | null;
  /** The node whose CLUSTER NODES this is. */
  readonly myself: boolean;
  /** Served slot ranges, inclusive. */
  readonly slots: ReadonlyArray<readonly [number, number]>;
  /** Slot → node id it is being migrated to (`[slot->-id]`, myself only). */
  readonly migrating: ReadonlyMap<number, string>;
  /** Slot → node id it is being imported from (`[slot-<-id]`, myself only). */
  readonly importing: ReadonlyMap<number, string>;
}

export function parseClusterNodes(text: string): ClusterNodeEntry[] {
  const nodes: ClusterNodeEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, endpoint, flagText, primaryId] = fields as [string, string, string, string];
    const flags = flagText.split(',');
    // `ip:port@cport[,hostname]`
    const address = endpoint.split('@')[0]!;
    const slots: [number, number][] = [];
    const migrating = new Map<number, string>();
    const importing = new Map<number, string>();
    for (const field of fields.slice(8)) {
      const state = /^\[(\d+)-([<>])-([0-9a-f]+)\]$/.exec(field);
      if (state !== null) (state[2] === '>' ? migrating : importing).set(Number(state[1]), state[3]!);
      else if (!field.startsWith('[')) {
        const [from, to] = field.split('-').map(Number);
        slots.push([from!, to ?? from!]);
      }
    }
    const replica = flags.includes('slave');
    nodes.push({
      id,
      address,
      primary: flags.includes('master') && !flags.includes('fail'),
      replica,
      replicaOf: replica && primaryId !== '-' ? primaryId : null,
      myself: flags.includes('myself'),
      slots,
      migrating,
      importing,
    });
  }
  return nodes;
}

/** The node that answered CLUSTER NODES (its `myself` line), if the text has one. */
export function myselfOf(text: string): ClusterNodeEntry | undefined {
  return parseClusterNodes(text).find((node) => node.myself);
}

/** The primary serving `slot`, or undefined when none does. */
export function ownerOfSlot(nodes: readonly ClusterNodeEntry[], slot: number): ClusterNodeEntry | undefined {
  return nodes.find((node) => node.primary && node.slots.some(([from, to]) => slot >= from && slot <= to));
}

/** The lowest slot `node` serves (migrating/importing markers are not served slots), or null. */
export function lowestSlot(node: ClusterNodeEntry): number | null {
  return node.slots.length === 0 ? null : Math.min(...node.slots.map(([from]) => from));
}

/** The slots `node` serves, ascending. */
export function slotsOf(node: ClusterNodeEntry): number[] {
  return node.slots.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => from + i)).filter((slot) => slot < CLUSTER_SLOTS);
}
