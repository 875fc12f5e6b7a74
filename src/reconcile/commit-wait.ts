/**
 * "Compare only what the worker has committed": before a row is compared with a hash image, the worker must
 * have committed every capture record written up to the instant the image was read (the capture stream's last
 * id then). Until it has, the row may lag the hash only because the change is in flight.
 */
import { WriteBehindError } from '../shared/errors.js';
import { compareStreamIds } from '../shared/stream-id.js';
import type { ReconcileRedis } from './reconcile-redis.js';
import type { WriterTarget } from './writer-target.js';

/** Waits until the writer's commit cursor reaches `captureId` (null: nothing was in flight); throws after `timeoutMs`. */
export async function waitCommitted(redis: ReconcileRedis, target: WriterTarget, captureId: string | null, timeoutMs: number): Promise<void> {
  if (captureId === null) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const committed = await redis.committed(target);
    if (committed !== null && compareStreamIds(committed, captureId) >= 0) return;
    if (Date.now() > deadline) {
      throw new WriteBehindError('NOT_COMMITTED', `the worker has not committed ${target.keys.changes} through ${captureId} within ${timeoutMs / 1000} s (committed: ${committed ?? 'nothing'}): verify compares only committed changes`, {
        context: { suggestion: 'start a worker (writebehind worker), or raise --wait-ms when the backlog is long' },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
