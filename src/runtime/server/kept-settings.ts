/**
 * A client's `CONFIG SET` through the runtime, with the settings the runtime depends on kept: the
 * notify-keyspace-events flags its triggers need (notify-flags.ts) and the lifted pubsub output limit that keeps
 * its keyspace subscription from being dropped (pubsub-limit.ts).
 */
import { keepNotifyFlags } from './notify-flags.js';
import { keepPubsubLimitLifted } from './pubsub-limit.js';

/** The CONFIG arguments to send instead of `args`, or null when they keep everything already. */
export function keepRuntimeSettings(args: readonly Buffer[]): Buffer[] | null {
  const flags = keepNotifyFlags(args);
  return keepPubsubLimitLifted(flags ?? args) ?? flags;
}
