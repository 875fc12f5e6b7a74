/**
 * A slot move under the chaos load, done as `writebehind reshard` does for the window a hand-made move leaves
 * (docs/scale-out.md, slot migration): the keys of the slot that vanished between the listing before MIGRATING
 * and the MIGRATE were deleted on the source with their capture skipped, so they are re-captured (as deletes)
 * through the slot's new owner once it serves the slot.
 */
import type { createCluster } from 'redis';
import { recaptureTarget } from '../../src/reshard/recapture-target.js';
import type { WriteBehindConfig } from '../../src/shared/config.js';
import { LibraryFunction } from '../../src/shared/protocol.js';
import { moveSlot } from '../support/cluster-slots.js';

type ClusterClient = ReturnType<typeof createCluster>;

/**
 * Re-captures the mapped hashes among `keys` (all of one slot; the library's own keys vanish too, a trimmed
 * stream say) through the cluster client: the library's `recapture`, on their owner.
 */
export async function recaptureVanished(client: ClusterClient, config: WriteBehindConfig, keys: readonly string[]): Promise<void> {
  const { library, prefixes } = recaptureTarget(config);
  const mapped = keys.filter((key) => prefixes.some((prefix) => key.startsWith(prefix)));
  if (mapped.length === 0) return;
  await client.sendCommand(mapped[0], false, ['TFCALL', `${library}.${LibraryFunction.recapture}`, String(mapped.length), ...mapped]);
}

/** Moves `slot` between the servers at these ports and re-captures the keys deleted in the move's window. */
export async function moveSlotUnderLoad(client: ClusterClient, config: WriteBehindConfig, slot: number, sourcePort: number, targetPort: number): Promise<void> {
  const { vanished } = await moveSlot(slot, sourcePort, targetPort);
  await recaptureVanished(client, config, vanished);
}
