/**
 * A captured backlog saved and put back with DUMP/RESTORE on the redis-server itself (not through the
 * runtime): the capture stream, the batch stream (with its consumer group) and the meta hash. Capturing
 * through the local runtime is slow, so the drain scenario captures once and replays the same backlog for
 * every repetition.
 */
import { RESP_TYPES, type RedisClientType } from 'redis';
import { benchKeys } from './pipeline.js';

export type BacklogSnapshot = ReadonlyMap<string, Buffer>;

const KEYS = [benchKeys.changes, benchKeys.batches, benchKeys.meta];

export async function saveBacklog(direct: RedisClientType): Promise<BacklogSnapshot> {
  const binary = direct.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const snapshot = new Map<string, Buffer>();
  for (const key of KEYS) {
    const dump = await binary.dump(key);
    if (dump === null) throw new Error(`backlog snapshot: ${key} does not exist`);
    snapshot.set(key, dump as unknown as Buffer);
  }
  return snapshot;
}

export async function restoreBacklog(direct: RedisClientType, snapshot: BacklogSnapshot): Promise<void> {
  for (const [key, dump] of snapshot) await direct.restore(key, 0, dump, { REPLACE: true });
}
