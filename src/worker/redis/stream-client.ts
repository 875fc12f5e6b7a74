/**
 * The Redis commands the worker and the CLI use, and nothing else (stream reads, the consumer group, the meta
 * hash, dead letters, acks and the library's functions). The Worker depends on this interface, not on a driver,
 * so it runs the same against Redis Stack, the local runtime, or a stand-in for the library in tests.
 */
import type { StreamEntry } from './stream-entry.js';
import type { CapturePage } from './capture-page.js';

export type StreamFields = ReadonlyArray<readonly [string, string | Buffer]>;

export interface AckMessage {
  /** The acknowledgement stream `{<hash key>}<uuid>`. */
  readonly stream: string;
  readonly fields: StreamFields;
}

export interface StreamClient {
  /** XGROUP CREATE <stream> <group> 0 MKSTREAM, ignoring BUSYGROUP. */
  ensureGroup(stream: string, group: string): Promise<void>;
  /** XREADGROUP from one stream: `0` re-reads the consumer's own pending entries, `>` reads new ones. */
  readGroup(stream: string, group: string, consumer: string, cursor: '0' | '>', count: number, blockMs?: number): Promise<StreamEntry[]>;
  /** XAUTOCLAIM entries idle at least `minIdleMs` from any consumer, at most `count`. */
  claimIdle(stream: string, group: string, consumer: string, minIdleMs: number, count: number): Promise<StreamEntry[]>;
  /** Ids pending for `consumer` between `start` and `end` (XPENDING extended form). */
  pendingOf(stream: string, group: string, consumer: string, count: number, start?: string, end?: string): Promise<string[]>;
  /** Entries pending in the group, all consumers (XPENDING summary); 0 when the stream or group is missing. */
  pendingCount(stream: string, group: string): Promise<number>;
  /** Resets the idle time of entries the consumer holds (XCLAIM … 0 … JUSTID), so nobody reclaims live work. */
  touch(stream: string, group: string, consumer: string, ids: readonly string[]): Promise<void>;
  /** XRANGE (`after`, `through`], at most `count` capture records, parsed (the hot path: see redis/capture-page.ts). */
  rangeRecords(stream: string, after: string, through: string, count: number): Promise<CapturePage>;
  /** XRANGE - + or XREVRANGE + -, at most `count`. */
  range(stream: string, count: number, reverse?: boolean): Promise<StreamEntry[]>;
  length(stream: string): Promise<number>;
  /** XADD (auto id), optionally capped with MAXLEN ~; returns the id. */
  append(stream: string, fields: StreamFields, maxLen?: number): Promise<string>;
  /** XDEL; returns how many were deleted. */
  deleteEntries(stream: string, ids: readonly string[]): Promise<number>;
  deleteKey(key: string): Promise<void>;
  hashGetAll(key: string): Promise<Record<string, string>>;
  hashSet(key: string, fields: Record<string, string>): Promise<void>;
  hashIncrement(key: string, field: string, by: number): Promise<void>;
  /** Acknowledgements: XADD + EXPIRE each, in one round trip. */
  acknowledge(acks: readonly AckMessage[], ttlSeconds: number): Promise<void>;
  /** EXISTS for each key, in order. */
  exists(keys: readonly string[]): Promise<boolean[]>;
  /**
   * HINCRBY `key` `field` 1, then WAIT `replicas` `timeoutMs` on the same connection (the shard of `key`): how
   * many replicas acknowledged that write, and the node asked (`host:port`).
   */
  waitForReplicas(key: string, field: string, replicas: number, timeoutMs: number): Promise<{ readonly acknowledged: number; readonly node: string }>;
  /** TFCALL <library>.<fn> with keys and args; the reply as text (or null). */
  callFunction(library: string, fn: string, keys: readonly string[], args: readonly string[]): Promise<string | null>;
  /** False while the connection is down. */
  isReady(): boolean;
  /** Waits for the replies still due, then closes. */
  close(): Promise<void>;
  /** Closes at once: every command still waiting fails (a stop that cannot wait for Redis). */
  destroy(): void;
}

/** One answer of the library's `ready`: logs with batches to commit, and whether the node has more to cut or list. */
export interface ReadyChunk {
  readonly streams: readonly string[];
  readonly more: boolean;
}

/** What the worker on a Redis Cluster asks besides the stream commands (cluster-stream-client.ts). */
export interface ClusterClient extends StreamClient {
  /** The primaries (`host:port`) as the topology last seen names them. */
  primaries(): string[];
  /** The library's `ready` on one primary: a chunk of its logs of `writer` with batches to commit, after cutting due ones. */
  ready(node: string, library: string, writer: string, maxDelayMs: number, limit: number): Promise<ReadyChunk>;
  /** The library's `adopt` on one primary: `streams` (its logs of `writer`) into its ready index; those with batches to commit. */
  adopt(node: string, library: string, writer: string, maxDelayMs: number, streams: readonly string[]): Promise<string[]>;
  /** The primary (`host:port`) that serves `key`'s slot as the topology last seen says, if known. */
  nodeOf(key: string): string | undefined;
  /** TFCALL <library>.<fn> 0 <args> on one primary; the reply as an array of texts (or nulls). */
  callOnNode(node: string, library: string, fn: string, args: readonly string[]): Promise<(string | null)[]>;
  /** Slot ownership as one node sees it, in a form to compare with an earlier reading. */
  slotOwners(): Promise<string>;
  /** The streams on one primary whose names match `pattern` (a glob). */
  scanStreams(node: string, pattern: string): Promise<string[]>;
  /** XLEN of each stream, in order, each on its shard. */
  lengths(streams: readonly string[]): Promise<number[]>;
}
