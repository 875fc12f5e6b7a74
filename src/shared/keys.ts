/**
 * Every Redis key name the system uses, in one place: the gears library, the worker, the CLI and the tests
 * all derive names from here, so a change of layout is one edit.
 *
 * All keys of one writer carry the hash tag `{<writer>}`, so in a Redis Cluster they live in one slot and a
 * TFCALL that names them is cluster-safe. A writer with `partitions: N` (N > 1) has N such sets, one per
 * partition, each under its own tag (docs/scale-out.md, key names). This module is bundled into the gears
 * library: keep it free of Node APIs.
 */
import { CLUSTER_SLOTS, keySlot, slotTag } from './key-slot.js';

/** Every key the library and the worker own starts with this; no writer's hashes may live under it. */
export const LIBRARY_KEY_NAMESPACE = 'wb:';

/** Prefix of every capture stream; the library's stream trigger is registered on it. */
export const CAPTURE_STREAM_PREFIX = `${LIBRARY_KEY_NAMESPACE}changes:`;

/** What every dead-letter stream's name starts with. */
export const DEAD_LETTER_PREFIX = `${LIBRARY_KEY_NAMESPACE}dlq:`;

/** Consumer group the workers read batch descriptors with. */
export const WORKER_GROUP = 'workers';

/** Seconds an acknowledgement stream lives (the seed's "TTL of one hour"). */
export const ACK_TTL_SECONDS = 3600;

/** The keys of one ordered capture log: a writer's, or one partition's of a partitioned writer. */
export interface StreamKeys {
  /** Stream of captured changes, the durable ordered log until a change is committed. */
  readonly changes: string;
  /** Stream of batch descriptors cut from `changes`; workers read it with the `workers` group. */
  readonly batches: string;
  /** Stream of records that could not be captured or written, each with its reason. */
  readonly deadLetters: string;
  /** Hash with the writer's cursors and counters (cut, open, committed, ...). */
  readonly meta: string;
  /**
   * Hash of the keys written with `#` `+` or `-` (field: the key; value: its record, divergence-record.ts), which
   * a repair leaves alone. In the log's slot, so on a cluster in the slot of the keys it records.
   */
  readonly divergent: string;
}

/** A writer's stream keys (its unpartitioned log) and its writer-wide reconcile state. */
export interface WriterKeys extends StreamKeys {
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
    deadLetters: `${DEAD_LETTER_PREFIX}${tag}`,
    meta: `${LIBRARY_KEY_NAMESPACE}meta:${tag}`,
    divergent: `${LIBRARY_KEY_NAMESPACE}divergent:${tag}`,
    backfill: `${LIBRARY_KEY_NAMESPACE}backfill:${tag}`,
    verify: `${LIBRARY_KEY_NAMESPACE}verify:${tag}`,
  });
}

/** Most partitions a writer may have on one Redis. */
export const MAX_PARTITIONS = 256;

/**
 * The keys of partition `index` of `count` of a writer. One partition is the unpartitioned layout,
 * `writerKeys(writer)` exactly. Otherwise `wb:changes:<writer>:<index>/<count>:{<tag>}` and alike, the tag
 * landing in the partition's first slot, so on a cluster (one partition per slot) the keys live with the hashes
 * they capture; the count is in the name, so another layout never shares streams with this one.
 */
export function partitionKeys(writer: string, index: number, count: number): StreamKeys {
  if (count === 1 && index === 0) return writerKeys(writer);
  if (!Number.isInteger(count) || count < 1 || count > CLUSTER_SLOTS || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`partition ${index} of ${count} does not exist`);
  }
  const id = `${writer}:${index}/${count}:{${slotTag(firstSlotOfPartition(index, count))}}`;
  return Object.freeze({
    changes: `${CAPTURE_STREAM_PREFIX}${id}`,
    batches: `${LIBRARY_KEY_NAMESPACE}batches:${id}`,
    deadLetters: `${DEAD_LETTER_PREFIX}${id}`,
    meta: `${LIBRARY_KEY_NAMESPACE}meta:${id}`,
    divergent: `${LIBRARY_KEY_NAMESPACE}divergent:${id}`,
  });
}

/**
 * The capture logs of a writer with `count` partitions, in partition order: `writerKeys(writer)` alone when
 * unpartitioned. A partitioned writer's unpartitioned log (`writerKeys`, the previous layout's backlog) is
 * not among them.
 */
export function partitionsOf(writer: string, count: number): StreamKeys[] {
  return Array.from({ length: count }, (_, index) => partitionKeys(writer, index, count));
}

/**
 * Every capture log a writer with `count` partitions may hold records or dead letters in: the unpartitioned
 * one (today's, or a previous layout's backlog) first, then its partitions. What status, dlq and the worker
 * go over.
 */
export function captureLogsOf(writer: string, count: number): StreamKeys[] {
  return count === 1 ? [writerKeys(writer)] : [writerKeys(writer), ...partitionsOf(writer, count)];
}

/** The partition of a hash key: partitions are equal ranges of cluster slots, so one slot is in one partition. */
export function partitionOfKey(key: Uint8Array | string, count: number): number {
  return Math.floor((keySlot(key) * count) / CLUSTER_SLOTS);
}

/** The lowest slot of partition `index` of `count` (slots s with floor(s · count / 16384) = index). */
export function firstSlotOfPartition(index: number, count: number): number {
  return Math.ceil((index * CLUSTER_SLOTS) / count);
}

const PARTITION_STREAM = /^wb:changes:([A-Za-z0-9_]+):\d+\/\d+:\{[^}]*\}$/;

const SLOT_PARTITION_STREAM = new RegExp(`^wb:changes:([A-Za-z0-9_]+):(\\d+)/${CLUSTER_SLOTS}:\\{([^}]*)\\}$`);

/**
 * The writer and slot of a per-slot partition's capture stream (`wb:changes:<writer>:<slot>/16384:{<tag>}`, a
 * cluster's layout), or null when the name is not exactly what `partitionKeys` makes for that slot.
 */
export function slotPartitionOfStream(stream: string): { writer: string; slot: number } | null {
  const match = SLOT_PARTITION_STREAM.exec(stream);
  if (match === null) return null;
  const slot = Number(match[2]);
  if (slot >= CLUSTER_SLOTS || match[3] !== slotTag(slot) || String(slot) !== match[2]) return null;
  return { writer: match[1]!, slot };
}

/** The writer a capture stream belongs to (unpartitioned or a partition's), or null when it is not one. */
export function writerOfCaptureStream(stream: string): string | null {
  const partition = PARTITION_STREAM.exec(stream);
  if (partition) return partition[1]!;
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

/**
 * Every key the runtime itself writes on its server starts with this: its library store, running mark,
 * unclean-stop count, lease and probe keys. Clients are not told of them (runtime/server/own-invalidations.ts).
 */
export const RUNTIME_KEY_NAMESPACE = '__writebehind_runtime__:';

/** Whether `key` is one of the runtime's own (RUNTIME_KEY_NAMESPACE), given as text or as its bytes. */
export function isRuntimeKey(key: string | Uint8Array): boolean {
  const length = RUNTIME_KEY_NAMESPACE.length;
  if (typeof key === 'string') return key.startsWith(RUNTIME_KEY_NAMESPACE);
  if (key.length < length) return false;
  for (let i = 0; i < length; i += 1) if (key[i] !== RUNTIME_KEY_NAMESPACE.charCodeAt(i)) return false;
  return true;
}

/**
 * Unclean stops of the runtime on a standalone redis-server (db 0; docs/runtime.md#limits): a runtime marks
 * itself running at start and removes the mark at a clean stop; a mark found at start counts one more unclean
 * stop. A write redis-server ran just before such a stop may never have been captured, so a worker whose
 * repair count is behind re-captures what MySQL disagrees with (worker/unclean-stop-repair.ts).
 */
export const RUNTIME_RUNNING_KEY = `${RUNTIME_KEY_NAMESPACE}running`;
export const RUNTIME_UNCLEAN_STOPS_KEY = `${RUNTIME_KEY_NAMESPACE}unclean-stops`;

/**
 * The lease of the one runtime in front of a redis-server (runtime/runtime-lease.ts): its holder's id, with a TTL
 * the holder refreshes while it runs. A second runtime over the same server refuses to start.
 */
export const RUNTIME_LEASE_KEY = `${RUNTIME_KEY_NAMESPACE}lease`;

/** The unclean stops a worker of library `library` has repaired after. */
export function uncleanStopsRepairedKey(library: string): string {
  return `${LIBRARY_KEY_NAMESPACE}unclean-stops-repaired:{${library}}`;
}

/**
 * The same on a Redis Cluster, one mark and one count per primary: a node's keys must lie in a slot it serves,
 * so each carries the node's id and the `{tag}` of its runtime's store (runtime/cluster/cluster-store-keys.ts),
 * and the runtime next in front of the node finds them there. `tag` is the hash tag's content, without braces.
 */
export function runtimeRunningKeyOfNode(nodeId: string, tag: string): string {
  return `${RUNTIME_RUNNING_KEY}:${nodeId}:{${tag}}`;
}

export function runtimeUncleanStopsKeyOfNode(nodeId: string, tag: string): string {
  return `${RUNTIME_UNCLEAN_STOPS_KEY}:${nodeId}:{${tag}}`;
}

export function runtimeLeaseKeyOfNode(nodeId: string, tag: string): string {
  return `${RUNTIME_LEASE_KEY}:${nodeId}:{${tag}}`;
}

/** What a SCAN of a cluster node matches to find the unclean-stop counts on it (runtimeUncleanStopsKeyOfNode). */
export const RUNTIME_UNCLEAN_STOPS_OF_NODES_PATTERN = `${RUNTIME_UNCLEAN_STOPS_KEY}:*:{*}`;

/**
 * On a Redis Cluster, the unclean stops a worker of library `library` has repaired after: a hash, one field per
 * count key (runtimeUncleanStopsKeyOfNode) and the count it held when the repair began. Per key, not a sum: a
 * count lost with its node (a failover before it replicated) must not hide another node's new stop.
 */
export function uncleanStopsRepairedOfNodesKey(library: string): string {
  return `${LIBRARY_KEY_NAMESPACE}unclean-stops-repaired-nodes:{${library}}`;
}
