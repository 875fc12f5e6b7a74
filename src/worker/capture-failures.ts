/**
 * Captures that failed inside Redis. A capture trigger that throws or is killed by `lock-redis-timeout` does
 * not fail the client's write (RedisGears never shows trigger errors to the writer), so the row silently stays
 * stale. RedisGears counts these failures per keyspace trigger (`num_failed`, `last_error` in
 * `TFUNCTION LIST LIBRARY <name> v`), on Redis Stack and on the local runtime alike: this module reads them for
 * `writebehind status`, and ./capture-failure-watch.ts for the worker's metrics and a warning in the worker's log
 * (apart, so that status does not load prom-client).
 *
 * The counts live in Redis' memory (reset when Redis restarts). A timeout names no key (the callback was
 * killed); a failure the library could catch is also in the writer's dead-letter stream, with the key.
 * On a Redis Cluster each primary counts the captures of its own keys: every primary is asked, and the counts
 * are summed.
 */

export interface CaptureFailures {
  readonly writer: string;
  /** Capture callbacks of this writer that failed since the library was loaded (RedisGears `num_failed`). */
  readonly failed: number;
  /** RedisGears `last_error` of the writer's keyspace trigger, or null. */
  readonly lastError: string | null;
}

/** Where the library's trigger statistics come from: `TFUNCTION LIST LIBRARY <library> v` of one node, reply as sent. */
export type LibraryListing = (library: string) => Promise<unknown>;

/**
 * The capture failures of each writer (its keyspace trigger has the writer's name); absent triggers count 0.
 * With several listings (each primary of a cluster) the counts are summed, and the last error is one of a node
 * that counts failures.
 */
export async function readCaptureFailures(list: LibraryListing | readonly LibraryListing[], library: string, writers: readonly string[]): Promise<CaptureFailures[]> {
  return captureFailuresOf(await Promise.all((typeof list === 'function' ? [list] : list).map((listing) => listing(library))), writers);
}

/** The same, from each node's listing reply as read. */
export function captureFailuresOf(replies: readonly unknown[], writers: readonly string[]): CaptureFailures[] {
  const nodes = replies.map(keyspaceTriggers);
  return writers.map((writer) => {
    const stats = nodes.map((triggers) => triggers.get(writer));
    const failedOn = stats.map((s) => Number(s?.['num_failed'] ?? 0));
    const failing = stats.find((_, i) => failedOn[i]! > 0) ?? stats[0];
    return { writer, failed: failedOn.reduce((total, n) => total + n, 0), lastError: textOrNull(failing?.['last_error']) };
  });
}

/** `TFUNCTION LIST` replies a list of libraries, each a map (RESP3) or a flat [key, value, ...] array (RESP2). */
function keyspaceTriggers(reply: unknown): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const library = listedLibrary(reply);
  if (library === undefined) return out;
  for (const trigger of asArray(library['keyspace_triggers'])) {
    const stats = toRecord(trigger);
    out.set(String(stats['name']), stats);
  }
  return out;
}

/** The one library of a `TFUNCTION LIST LIBRARY <name>` reply, as a record; undefined when none is listed. */
export function listedLibrary(reply: unknown): Record<string, unknown> | undefined {
  const [library] = Array.isArray(reply) ? reply : [];
  return library === undefined ? undefined : toRecord(library);
}

function toRecord(value: unknown): Record<string, unknown> {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), v]));
  if (!Array.isArray(value)) return (value ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < value.length; i += 2) out[String(value[i])] = value[i + 1];
  return out;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
