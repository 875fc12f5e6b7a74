/**
 * What backfill and verify need of one writer of the config: its keys, the SCAN pattern of its hashes, its
 * table and columns, and the two directions between a hash key and a primary key (`person:42` ↔ `42`; with a
 * composite key the id is the `:`-separated values in the key columns' order).
 */
import { primaryKeyColumns, type WriteBehindConfig, type WriterConfig } from '../shared/config.js';
import { ConfigError } from '../shared/errors.js';
import { captureLogsOf, hashKeyPrefix, partitionKeys, partitionOfKey, writerKeys, type StreamKeys, type WriterKeys } from '../shared/keys.js';

export interface WriterTarget {
  readonly library: string;
  readonly name: string;
  /** The writer's keys: its unpartitioned capture log, and the writer-wide backfill and verify state. */
  readonly keys: WriterKeys;
  /** Every capture log a change may be in flight in (`captureLogsOf`): just `keys` when unpartitioned. */
  readonly logs: readonly StreamKeys[];
  /** The capture log a re-capture of `key` must go to: the key's partition's (or `keys` when unpartitioned). */
  readonly logOfKey: (key: string) => StreamKeys;
  /** `<keysPrefix>:` */
  readonly prefix: string;
  readonly table: string;
  readonly keyColumns: readonly string[];
  /** [hash field, column] pairs, in the config's order. */
  readonly mappings: readonly (readonly [string, string])[];
  /** `onExpire: keep`: rows of expired hashes stay on purpose, so a row without a hash is no difference. */
  readonly keepsRowsWithoutHash: boolean;
}

/** The writer the config names `name`; a ConfigError (exit 2) listing the known ones otherwise. */
export function writerTarget(config: WriteBehindConfig, name: string, configPath: string): WriterTarget {
  const writer = config.writers.find((w) => w.name === name);
  if (writer === undefined) {
    throw new ConfigError(`unknown writer '${name}': ${configPath} names ${config.writers.map((w) => w.name).join(', ')}`, {
      context: { suggestion: 'pass --writer with one of those, or --config with the config the library was deployed with' },
    });
  }
  return targetOf(config.name, writer);
}

function targetOf(library: string, writer: WriterConfig): WriterTarget {
  const partitions = writer.partitions ?? 1;
  const keys = writerKeys(writer.name);
  return Object.freeze({
    library,
    name: writer.name,
    keys,
    logs: Object.freeze(captureLogsOf(writer.name, partitions)),
    // A partitioned writer's unpartitioned log receives nothing new: a key's live changes are in its partition.
    logOfKey: (key: string) => (partitions === 1 ? keys : partitionKeys(writer.name, partitionOfKey(key, partitions), partitions)),
    prefix: hashKeyPrefix(writer.keysPrefix),
    table: writer.table,
    keyColumns: Object.freeze(primaryKeyColumns(writer)),
    mappings: Object.freeze(Object.entries(writer.mappings).map(([field, column]) => Object.freeze([field, column] as const))),
    keepsRowsWithoutHash: writer.onExpire === 'keep',
  });
}

/** SCAN MATCH pattern of the writer's hashes whose id matches `idGlob`; the literal prefix is escaped. */
export function scanPattern(target: WriterTarget, idGlob: string): string {
  return `${target.prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}${idGlob}`;
}

/** The hash key of a row's primary key values (in keyColumns order). */
export function keyOfRow(target: WriterTarget, keyValues: readonly string[]): string {
  return `${target.prefix}${keyValues.join(':')}`;
}

/** The primary key values of a hash key, or null when the key has no valid id (the capture dead-letters those). */
export function keyValuesOf(target: WriterTarget, key: string): string[] | null {
  if (!key.startsWith(target.prefix)) return null;
  const id = key.slice(target.prefix.length);
  const parts = target.keyColumns.length === 1 ? [id] : id.split(':');
  if (parts.length !== target.keyColumns.length || parts.some((part) => part === '')) return null;
  return parts;
}
