/**
 * One writer of the configuration, resolved once at load time into what the triggers and functions need on
 * every event: its key names, its key prefix, its primary key columns and its field → column pairs. A writer
 * with `partitions: N` is N contexts that differ only in their keys (docs/scale-out.md); batching, `cut`,
 * `committed` and `status` work per context, so per partition.
 */
import { captureStamp } from '../src/shared/capture-config.js';
import { primaryKeyColumns, type WriteBehindConfig, type WriterConfig } from '../src/shared/config.js';
import { CLUSTER_SLOTS, keySlot } from '../src/shared/key-slot.js';
import { hashKeyPrefix, partitionKeys, slotPartitionOfStream, writerKeys, type StreamKeys } from '../src/shared/keys.js';

export interface WriterContext {
  readonly name: string;
  readonly keys: StreamKeys;
  /** `<keysPrefix>:`, the keyspace trigger's prefix; the rest of a key is its id. */
  readonly prefix: string;
  readonly table: string;
  readonly keyColumns: readonly string[];
  /** [hash field, column] pairs, in the config's order. */
  readonly mappings: readonly (readonly [string, string])[];
  /** The mapped hash fields, in the config's order: what the capture reads (with `#`). */
  readonly mappedFields: readonly string[];
  readonly onExpire: WriterConfig['onExpire'];
  /** Approximate cap of the dead-letter stream (XADD MAXLEN ~). */
  readonly deadLetterMaxLen: number;
  /** The fingerprint of the writer's capture config every batch descriptor carries (src/shared/capture-config.ts). */
  readonly stamp: string;
}

/** The contexts of a writer's partitions, in partition order (one, with today's keys, when unpartitioned). */
export function createWriterContexts(writer: WriterConfig, config: Pick<WriteBehindConfig, 'deadLetterMaxLen'>): readonly WriterContext[] {
  const count = writer.partitions ?? 1;
  return Object.freeze(Array.from({ length: count }, (_, index) => createWriterContext(writer, config, partitionKeys(writer.name, index, count))));
}

/**
 * The unpartitioned layout of a partitioned writer (`writerKeys`): nothing is captured into it any more, but a
 * backlog the previous, unpartitioned library left there is still cut, committed and reported, so it drains
 * (docs/scale-out.md, the previous backlog drains first). Null for an unpartitioned writer, whose only context
 * already has these keys.
 */
export function createLegacyContext(writer: WriterConfig, config: Pick<WriteBehindConfig, 'deadLetterMaxLen'>): WriterContext | null {
  return (writer.partitions ?? 1) === 1 ? null : createWriterContext(writer, config, writerKeys(writer.name));
}

function createWriterContext(writer: WriterConfig, config: Pick<WriteBehindConfig, 'deadLetterMaxLen'>, keys: StreamKeys): WriterContext {
  return Object.freeze({
    name: writer.name,
    keys,
    prefix: hashKeyPrefix(writer.keysPrefix),
    table: writer.table,
    keyColumns: Object.freeze(primaryKeyColumns(writer)),
    mappings: Object.freeze(Object.entries(writer.mappings).map(([field, column]) => Object.freeze([field, column] as const))),
    mappedFields: Object.freeze(Object.keys(writer.mappings)),
    onExpire: writer.onExpire,
    deadLetterMaxLen: config.deadLetterMaxLen,
    stamp: captureStamp(writer),
  });
}

/**
 * The contexts of every capture log of the config, found by capture stream name: the fixed ones (each writer's
 * partitions and unpartitioned log), and on a cluster each writer's per-slot partitions (`<writer>:<slot>/16384`),
 * made on first use since a shard only ever meets the slots it serves.
 */
/** Asked once per captured record: TypeScript `private` fields, as the bundle's ES2020 target makes `#` ones WeakMaps. */
export class WriterContexts {
  private readonly fixed: ReadonlyMap<string, WriterContext>;
  private readonly writers: ReadonlyMap<string, WriterConfig>;
  private readonly config: Pick<WriteBehindConfig, 'deadLetterMaxLen'>;
  /** Per-slot contexts made so far, by capture stream and by writer and slot (the capture's lookup). */
  private readonly slots = new Map<string, WriterContext>();
  private readonly bySlot = new Map<string, (WriterContext | undefined)[]>();

  constructor(fixed: readonly WriterContext[], writers: readonly WriterConfig[], config: Pick<WriteBehindConfig, 'deadLetterMaxLen'>) {
    this.fixed = new Map(fixed.map((writer) => [writer.keys.changes, writer] as const));
    this.writers = new Map(writers.map((writer) => [writer.name, writer] as const));
    this.config = config;
  }

  /** The context of a capture stream, or undefined when no writer of the config owns it. */
  get(stream: string): WriterContext | undefined {
    const fixed = this.fixed.get(stream) ?? this.slots.get(stream);
    if (fixed !== undefined) return fixed;
    const partition = slotPartitionOfStream(stream);
    const writer = partition === null ? undefined : this.writers.get(partition.writer);
    return partition === null || writer === undefined ? undefined : this.ofSlot(writer.name, partition.slot);
  }

  /** The per-slot partition of `writer` that captures keys of `slot` (on a cluster). */
  ofSlot(writer: string, slot: number): WriterContext {
    let slots = this.bySlot.get(writer);
    if (slots === undefined) {
      slots = new Array<WriterContext | undefined>(CLUSTER_SLOTS);
      this.bySlot.set(writer, slots);
    }
    let context = slots[slot];
    if (context === undefined) {
      context = createWriterContext(this.writers.get(writer)!, this.config, partitionKeys(writer, slot, CLUSTER_SLOTS));
      slots[slot] = context;
      this.slots.set(context.keys.changes, context);
    }
    return context;
  }

  /** The per-slot partition of `writer` that captures `key` (on a cluster). */
  ofKey(writer: string, key: Uint8Array): WriterContext {
    return this.ofSlot(writer, keySlot(key));
  }

  /** The fixed capture streams' names (for error messages: per-slot ones are not listed). */
  keys(): IterableIterator<string> {
    return this.fixed.keys();
  }
}
