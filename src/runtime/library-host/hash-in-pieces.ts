/**
 * A hash of the library store read as HGETALL would give it, but in replies of a few KB: the field names
 * (HKEYS), their lengths (HSTRLEN), short values a few at a time (HMGET), and a long one (a library's code: the
 * writebehind bundle is ~190 KB) in slices, by a read-only script. The runtime's sync connection is a normal
 * client of redis-server, held to its `client-output-buffer-limit normal`: a server limited to 100 KB closed it
 * on the store's one HGETALL at start, and a runtime could not start once a library larger than that was loaded.
 */
import type { CommandArgument } from '../sync-redis/sync-redis.js';
import type { RespValue } from '../resp/types.js';

/** The most a value read takes of one reply: under any limit that lets the runtime start (docs/runtime.md, limits). */
export const VALUE_PIECE_BYTES = 8 * 1024;

/**
 * One slice of a hash field's value, 1-based and inclusive as Lua's string.sub. `no-writes`: it may run on a
 * replica (a cluster replica restores its primary's store) and under an ACL that refuses writes.
 */
const VALUE_SLICE = `#!lua flags=no-writes
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return false end
return string.sub(value, tonumber(ARGV[2]), tonumber(ARGV[3]))`;

/** Commands run back to back in the store's database; an error reply throws (LibraryStore's check). */
export type StoreBatch = (commands: CommandArgument[][]) => RespValue[];

/** Every field of `key` with its value, in HKEYS' order; a field deleted meanwhile is left out. */
export function readHashInPieces(batch: StoreBatch, key: string): [Buffer, Buffer][] {
  const names = buffers(batch([['HKEYS', key]])[0]!);
  if (names.length === 0) return [];
  const lengths = batch(names.map((name) => ['HSTRLEN', key, name])).map((reply) => (reply.type === 'integer' ? Number(reply.value) : 0));
  const out: [Buffer, Buffer][] = [];
  let group: Buffer[] = [];
  let groupBytes = 0;
  const readGroup = () => {
    if (group.length === 0) return;
    const values = batch([['HMGET', key, ...group]])[0]!;
    const list = values.type === 'array' ? values.value : [];
    group.forEach((name, i) => {
      const value = list[i];
      if (value !== undefined && (value.type === 'blob' || value.type === 'verbatim')) out.push([name, value.value]);
    });
    group = [];
    groupBytes = 0;
  };
  names.forEach((name, i) => {
    const length = lengths[i]!;
    if (length > VALUE_PIECE_BYTES) {
      readGroup();
      const value = readLongValue(batch, key, name, length);
      if (value !== null) out.push([name, value]);
      return;
    }
    if (groupBytes + length > VALUE_PIECE_BYTES) readGroup();
    group.push(name);
    groupBytes += length;
  });
  readGroup();
  return out;
}

/** A value longer than a piece, slice by slice (each slice one round trip); null when the field is gone. */
function readLongValue(batch: StoreBatch, key: string, name: Buffer, length: number): Buffer | null {
  const slices: Buffer[] = [];
  for (let from = 1; from <= length; from += VALUE_PIECE_BYTES) {
    const reply = batch([['EVAL', VALUE_SLICE, '1', key, name, String(from), String(from + VALUE_PIECE_BYTES - 1)]])[0]!;
    if (reply.type !== 'blob' && reply.type !== 'verbatim') return null;
    slices.push(reply.value);
  }
  return Buffer.concat(slices);
}

function buffers(reply: RespValue): Buffer[] {
  if (reply.type !== 'array' && reply.type !== 'set') return [];
  return reply.value.flatMap((value) => (value.type === 'blob' || value.type === 'verbatim' ? [value.value] : []));
}
