/**
 * The `--slots` value of `writebehind recapture` and `reshard`: slots and inclusive ranges separated by commas
 * (`5061`, `0-99,5061,7000-7010`), as the slots in order, each once.
 */
import { CLUSTER_SLOTS } from '../shared/key-slot.js';

/** The slots `text` lists, ascending and distinct; throws a message naming the offending part. */
export function parseSlotList(text: string): number[] {
  const slots = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim())) {
    const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (match === null) throw new Error(`'${part}' is not a slot or a range of slots (e.g. 5061 or 0-99)`);
    const from = Number(match[1]);
    const to = Number(match[2] ?? match[1]);
    if (to >= CLUSTER_SLOTS) throw new Error(`'${part}': slots are 0 to ${CLUSTER_SLOTS - 1}`);
    if (to < from) throw new Error(`'${part}': a range goes from the lower slot to the higher`);
    for (let slot = from; slot <= to; slot++) slots.add(slot);
  }
  return [...slots].sort((a, b) => a - b);
}
