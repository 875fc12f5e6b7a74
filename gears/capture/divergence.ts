/**
 * The divergence record of a `+` or `-` write (src/shared/divergence-record.ts): the key is kept apart from
 * MySQL on purpose, and a repair must not undo that. Written in the write's own execution unit, next to the
 * capture log the key's changes go to (`writer.keys.divergent`, in the log's slot: on a cluster the key's own).
 */
import { DELETED_RECORD, keptRecord } from '../../src/shared/divergence-record.js';
import type { Flag } from '../flags.js';
import type { WriterContext } from '../writer-context.js';

export function recordDivergence(client: GearsClient, writer: WriterContext, key: string, flag: Flag, fields: ReadonlyMap<string, ArrayBuffer>): void {
  const record = flag === '-' ? DELETED_RECORD : keptRecord(imageOf(fields));
  client.call('HSET', writer.keys.divergent, key, record);
}

/** The mapped fields present, as the fingerprint takes them. */
export function imageOf(fields: ReadonlyMap<string, ArrayBuffer>): Array<[string, Uint8Array]> {
  const out: Array<[string, Uint8Array]> = [];
  for (const [name, value] of fields) out.push([name, new Uint8Array(value)]);
  return out;
}
