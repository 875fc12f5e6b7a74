/**
 * One writer of the configuration, resolved once at load time into what the triggers and functions need on
 * every event: its key names, its key prefix, its primary key columns and its field → column pairs. A writer
 * with `partitions: N` is N contexts that differ only in their keys (docs/scale-out.md); batching, `cut`,
 * `committed` and `status` work per context, so per partition.
 */
import { primaryKeyColumns, type WriteBehindConfig, type WriterConfig } from '../src/shared/config.js';
import { hashKeyPrefix, partitionKeys, writerKeys, type StreamKeys } from '../src/shared/keys.js';

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
  });
}
