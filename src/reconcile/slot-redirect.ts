/**
 * What a refused MULTI on a Redis Cluster says about its slot. A MULTI goes to the node the cluster client last
 * saw owning the slot and follows no redirect: a command queued for a slot that moved is refused with MOVED, one
 * for a key already migrated out of a MIGRATING slot with ASK (the whole transaction then fails with EXECABORT,
 * the redirect in its cause), and an EXEC whose keys are split between the two nodes of a migration with
 * TRYAGAIN.
 *
 * @internal
 */
import { errorMessage } from '../shared/errors.js';

export type SlotRedirect =
  /** The slot has a new owner for good: look the topology up again and send the MULTI there. */
  | { readonly kind: 'moved'; readonly reply: string }
  /** The slot is being migrated: its keys are on two nodes, which no one MULTI reads. */
  | { readonly kind: 'migrating'; readonly reply: string; /** The node it is migrating to, when ASK named it. */ readonly to?: string };

/** The redirect in `error` (its message or its causes'), or undefined for any other failure. */
export function slotRedirectOf(error: unknown): SlotRedirect | undefined {
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const message = errorMessage(current);
    const moved = /\bMOVED \d+ [^\s()]+/.exec(message);
    if (moved !== null) return { kind: 'moved', reply: moved[0] };
    const ask = /\bASK \d+ ([^\s()]+)/.exec(message);
    if (ask !== null) return { kind: 'migrating', reply: ask[0], to: ask[1]! };
    const tryAgain = /\bTRYAGAIN\b[^()]*/.exec(message);
    if (tryAgain !== null) return { kind: 'migrating', reply: tryAgain[0].trim() };
    if (current === null || typeof current !== 'object') break;
  }
  return undefined;
}
