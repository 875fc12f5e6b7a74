/**
 * Capture record format 2: the whole record in one stream field, `v2`, whose value is length-prefixed binary.
 * One field instead of 7+ is what lets the worker read a record in a fraction of the cost (docs/benchmarks.md);
 * values stay raw bytes, so hash values remain binary-safe. Written by the gears library (bundled: no Node
 * APIs); read by the worker (src/worker/compact-record.ts), which reads format 1 (the field-per-part layout of
 * protocol.ts RecordField) too, so a backlog written by an older library drains after an upgrade.
 *
 * Layout (every length a 4-byte big-endian unsigned integer, texts UTF-8):
 *
 * | part            | bytes                                                                            |
 * |-----------------|----------------------------------------------------------------------------------|
 * | op              | 1: `u` upsert the row image, `d` delete the row                                  |
 * | key             | length, bytes: the Redis key the change came from                                |
 * | table           | length, bytes                                                                    |
 * | ack             | length, bytes: uuid of a requested acknowledgement (length 0: none asked for)    |
 * | key columns     | 1-byte count n, then n × (name length, name, value length, value)                |
 * | columns         | 2-byte count m, then m × (name length, name, value length, value); a value length  |
 * |                 | of 0xFFFFFFFF (no bytes follow) is NULL: the mapped field is absent              |
 */
import { RecordOp, type RecordOpCode } from './protocol.js';

/** The value length that stands for NULL. */
export const COMPACT_NULL_LENGTH = 0xffffffff;

export interface CompactRecordParts {
  readonly op: RecordOpCode;
  readonly key: Uint8Array;
  readonly table: Uint8Array;
  readonly ack: Uint8Array | null;
  readonly keyValues: readonly (readonly [name: Uint8Array, value: Uint8Array])[];
  /** Empty for deletes. */
  readonly columns: readonly (readonly [name: Uint8Array, value: Uint8Array | null])[];
}

export function encodeCompactRecord(parts: CompactRecordParts): Uint8Array {
  if (parts.keyValues.length > 0xff) throw new RangeError(`a record takes at most 255 key columns, got ${parts.keyValues.length}`);
  if (parts.columns.length > 0xffff) throw new RangeError(`a record takes at most 65535 columns, got ${parts.columns.length}`);
  let size = 1 + 12 + parts.key.length + parts.table.length + (parts.ack?.length ?? 0) + 1 + 2;
  for (const [name, value] of parts.keyValues) size += 8 + name.length + value.length;
  for (const [name, value] of parts.columns) size += 8 + name.length + (value?.length ?? 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const bytes = (value: Uint8Array): void => {
    view.setUint32(at, value.length);
    out.set(value, at + 4);
    at += 4 + value.length;
  };
  out[at++] = parts.op === RecordOp.delete ? 0x64 : 0x75;
  bytes(parts.key);
  bytes(parts.table);
  bytes(parts.ack ?? EMPTY);
  out[at++] = parts.keyValues.length;
  for (const [name, value] of parts.keyValues) {
    bytes(name);
    bytes(value);
  }
  view.setUint16(at, parts.columns.length);
  at += 2;
  for (const [name, value] of parts.columns) {
    bytes(name);
    if (value !== null) bytes(value);
    else {
      view.setUint32(at, COMPACT_NULL_LENGTH);
      at += 4;
    }
  }
  return out;
}

const EMPTY = new Uint8Array(0);
