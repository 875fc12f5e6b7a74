/**
 * Every Redis key name the system uses, in one place: the gears library, the worker, the CLI and the tests
 * all derive names from here, so a change of layout is one edit.
 *
 * All keys of one writer carry the hash tag `{<writer>}`, so in a Redis Cluster they live in one slot and a
 * TFCALL that names them is cluster-safe. This module is bundled into the gears library: keep it free of
 * Node APIs.
 */

/** Every key the library and the worker own starts with this; no writer's hashes may live under it. */
export const LIBRARY_KEY_NAMESPACE = 'wb:';

/** Prefix of every capture stream; the library's stream trigger is registered on it. */
export const CAPTURE_STREAM_PREFIX = `${LIBRARY_KEY_NAMESPACE}changes:`;

/** Consumer group the workers read batch descriptors with. */
export const WORKER_GROUP = 'workers';

/** Seconds an acknowledgement stream lives (the seed's "TTL of one hour"). */
export const ACK_TTL_SECONDS = 3600;

export interface WriterKeys {
  /** Stream of captured changes, the durable ordered log until a change is committed. */
  readonly changes: string;
  /** Stream of batch descriptors cut from `changes`; workers read it with the `workers` group. */
  readonly batches: string;
  /** Stream of records that could not be captured or written, each with its reason. */
  readonly deadLetters: string;
  /** Hash with the writer's cursors and counters (cut, open, committed, ...). */
  readonly meta: string;
  /** Hash with the backfill's SCAN cursor (to resume) and its last run's figures (`writebehind backfill`). */
  readonly backfill: string;
  /** Hash with the last `writebehind verify` run's figures. */
  readonly verify: string;
}

export function writerKeys(writer: string): WriterKeys {
  const tag = `{${writer}}`;
  return Object.freeze({
    changes: `${CAPTURE_STREAM_PREFIX}${tag}`,
    batches: `${LIBRARY_KEY_NAMESPACE}batches:${tag}`,
    deadLetters: `${LIBRARY_KEY_NAMESPACE}dlq:${tag}`,
    meta: `${LIBRARY_KEY_NAMESPACE}meta:${tag}`,
    backfill: `${LIBRARY_KEY_NAMESPACE}backfill:${tag}`,
    verify: `${LIBRARY_KEY_NAMESPACE}verify:${tag}`,
  });
}

/** The writer a capture stream belongs to, or null when `stream` is not a capture stream. */
export function writerOfCaptureStream(stream: string): string | null {
  if (!stream.startsWith(`${CAPTURE_STREAM_PREFIX}{`) || !stream.endsWith('}')) return null;
  return stream.slice(CAPTURE_STREAM_PREFIX.length + 1, -1);
}

/** The acknowledgement stream of a write: `{<hash key>}<uuid>`, as the seed defines it. */
export function ackStreamKey(hashKey: string, uuid: string): string {
  return `{${hashKey}}${uuid}`;
}

/** Prefix the keyspace trigger of a writer watches: `person` → `person:`. */
export function hashKeyPrefix(keysPrefix: string): string {
  return `${keysPrefix}:`;
}
