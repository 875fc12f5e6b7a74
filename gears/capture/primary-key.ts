/**
 * Key → primary key: `person:42` gives `person_id = 42`. With a composite primary key of n columns the id is
 * split on ':' into exactly n non-empty parts (`order:7:1001` → customer_id 7, order_id 1001).
 */
import type { WriterContext } from '../writer-context.js';

export type PrimaryKeyResult =
  | { readonly ok: true; readonly values: readonly (readonly [column: string, value: string])[] }
  | { readonly ok: false; readonly reason: string };

export function parsePrimaryKey(writer: Pick<WriterContext, 'prefix' | 'keyColumns'>, key: string): PrimaryKeyResult {
  if (!key.startsWith(writer.prefix)) return { ok: false, reason: `key ${key} does not start with ${writer.prefix}` };
  const id = key.slice(writer.prefix.length);
  const columns = writer.keyColumns;
  if (id === '') return { ok: false, reason: `key ${key} has no id after ${writer.prefix}` };
  const parts = columns.length === 1 ? [id] : id.split(':');
  if (parts.length !== columns.length || parts.some((part) => part === '')) {
    return {
      ok: false,
      reason: `key ${key} must have ${columns.length} non-empty ':'-separated id parts after ${writer.prefix} (${columns.join(', ')}), found '${id}'`,
    };
  }
  return { ok: true, values: columns.map((column, i) => [column, parts[i] as string] as const) };
}
