/**
 * "Compare only what the worker has committed": before a row is compared with a hash image, the worker must
 * have committed every capture record written up to the instant the image was read (the capture stream's last
 * id then). Until it has, the row may lag the hash only because the change is in flight.
 */
import { WriteBehindError } from '../shared/errors.js';
import { compareStreamIds } from '../shared/stream-id.js';
import type { StreamKeys } from '../shared/keys.js';
import type { ReconcileRedis } from './reconcile-redis.js';

/**
 * Waits until each capture log's commit cursor reaches its id (null: nothing was in flight there; a partitioned
 * writer has several logs, and on a cluster a page of keys has a log per slot, each with its own cursor: they
 * are waited for all at once); throws after `timeoutMs`.
 */
export async function waitCommitted(redis: ReconcileRedis, lastCaptureIds: ReadonlyArray<readonly [StreamKeys, string | null]>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const inFlight = lastCaptureIds.filter((entry): entry is readonly [StreamKeys, string] => entry[1] !== null);
  // Once one wait failed, the others stop polling (the caller closes the connection).
  const stop = { failed: false };
  await Promise.all(inFlight.map(([log, captureId]) => waitLogCommitted(redis, log, captureId, deadline, timeoutMs, stop).catch((error: unknown) => {
    stop.failed = true;
    throw error;
  })));
}

async function waitLogCommitted(redis: ReconcileRedis, log: StreamKeys, captureId: string, deadline: number, timeoutMs: number, stop: { failed: boolean }): Promise<void> {
  while (!stop.failed) {
    const committed = await redis.committed(log);
    if (committed !== null && compareStreamIds(committed, captureId) >= 0) return;
    if (Date.now() > deadline) {
      throw new WriteBehindError('NOT_COMMITTED', `the worker has not committed ${log.changes} through ${captureId} within ${timeoutMs / 1000} s (committed: ${committed ?? 'nothing'}): verify compares only committed changes`, {
        context: { suggestion: 'start a worker (writebehind worker), or raise --wait-ms when the backlog is long' },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
