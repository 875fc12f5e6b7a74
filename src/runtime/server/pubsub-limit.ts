/**
 * A client's `CONFIG SET client-output-buffer-limit` through the runtime, with the `pubsub` class kept lifted
 * (`0 0 0`, as liftPubSubOutputLimit sets it at start). Without this a client setting `pubsub 100000 0 0` (the Tcl
 * suite's unit/obuf-limits does) let the next burst of changes to watched keys make the server drop the runtime's
 * keyspace subscription, and the runtime closed.
 */

export const LIFTED_PUBSUB_LIMIT = 'pubsub 0 0 0';

/**
 * The arguments with each `client-output-buffer-limit` value's pubsub class set to `0 0 0`, or null when nothing
 * needs changing (another command, no pubsub class, or one already without byte limits). A value the server
 * would refuse is passed as written, so the client gets the server's own error.
 */
export function keepPubsubLimitLifted(args: readonly Buffer[]): Buffer[] | null {
  if (args.length < 4 || args[1]!.toString('latin1').toLowerCase() !== 'set') return null;
  let out: Buffer[] | null = null;
  for (let i = 2; i + 1 < args.length; i += 2) {
    if (args[i]!.toString('latin1').toLowerCase() !== 'client-output-buffer-limit') continue;
    const lifted = liftedValue(args[i + 1]!.toString('latin1'));
    if (lifted === null) continue;
    out ??= [...args];
    out[i + 1] = Buffer.from(lifted, 'latin1');
  }
  return out;
}

/** `value` with its pubsub class lifted, or null when it is malformed or its pubsub class has no byte limit. */
function liftedValue(value: string): string | null {
  const words = value.split(' ').filter((word) => word !== '');
  if (words.length === 0 || words.length % 4 !== 0) return null;
  let changed = false;
  for (let i = 0; i < words.length; i += 4) {
    const [name, hard, soft, seconds] = words.slice(i, i + 4) as [string, string, string, string];
    if (!CLIENT_CLASSES.has(name.toLowerCase())) return null;
    const hardBytes = memoryBytes(hard);
    const softBytes = memoryBytes(soft);
    if (hardBytes === null || softBytes === null || !/^\d+$/.test(seconds)) return null;
    if (name.toLowerCase() !== 'pubsub' || (hardBytes === 0 && softBytes === 0)) continue;
    words.splice(i, 4, ...LIFTED_PUBSUB_LIMIT.split(' '));
    changed = true;
  }
  return changed ? words.join(' ') : null;
}

/** The classes CONFIG SET client-output-buffer-limit accepts (not `master`, which it refuses). */
const CLIENT_CLASSES = new Set(['normal', 'slave', 'replica', 'pubsub']);

const UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3 };

/** A memory value as redis-server's memtoull reads it (`100000`, `10mb`, `1G`), or null where it fails. */
function memoryBytes(text: string): number | null {
  const match = /^(\d+)([a-z]*)$/i.exec(text);
  const unit = match === null ? undefined : UNITS[match[2]!.toLowerCase()];
  return unit === undefined ? null : Number(match![1]) * unit;
}
