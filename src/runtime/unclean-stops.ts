/**
 * The runtime's mark on its primary (shared/keys.ts RUNTIME_RUNNING_KEY): a runtime killed between a write and
 * its capture leaves the write uncaptured, and the mark it leaves behind tells the next runtime, which counts the
 * unclean stop for the worker to repair after (worker/unclean-stop-repair.ts). A replica writes nothing. On a
 * cluster primary the mark and the count carry the node's id and its store's hash tag (markRunningOnNode).
 */
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY, runtimeRunningKeyOfNode, runtimeUncleanStopsKeyOfNode } from '../shared/keys.js';
import type { RedisConnection } from './server/redis-connection.js';

/** A runtime's mark: removed at a clean stop; its count also takes an unclean stop found while the runtime runs. */
export interface RunningMark {
  unmark(): Promise<void>;
  /**
   * Counts an unclean stop now, for what the runtime itself found may have gone uncaptured (a setting it keeps
   * changed behind its back, server/settings-check.ts): the new count, or null when it is not marked yet (a
   * cluster node serving no slot, or a replica's), so there is no count to add to.
   */
  countUncleanStop(): Promise<number | null>;
}

/** Marks the runtime running, counting an unclean stop when the last runtime left its mark. */
export async function markRunning(control: RedisConnection, log: Logger): Promise<RunningMark> {
  await mark(control, RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY, log, false);
  return {
    unmark: async () => {
      await control.call(['DEL', RUNTIME_RUNNING_KEY]);
    },
    countUncleanStop: () => increment(control, RUNTIME_UNCLEAN_STOPS_KEY),
  };
}

/** INCR of a count, read back as a number. */
async function increment(control: RedisConnection, stopsKey: string): Promise<number> {
  const count = await control.call(['INCR', stopsKey]);
  return count.type === 'integer' ? Number(count.value) : Number.NaN;
}

const MAX_RETRY_MS = 30_000;

/** A cluster node's id and the hash tag (no braces) of a slot it serves, where its runtime's store lives. */
export interface StoreNode {
  readonly id: string;
  readonly tag: string;
}

/**
 * markRunning on a cluster primary: the mark and the count are named with the node's id and its store's tag
 * (`storeNode`, runtime/cluster/cluster-store-keys.ts), so the runtime next in front of the node finds them, as
 * it finds the store. The count is created (at 0) with the first mark, so a worker (which SCANs for counts only
 * now and then, worker/unclean-stop-repair.ts) knows a node's count before that node's first unclean stop. A
 * node that serves no slot yet (its runtime started before `redis-cli --cluster create`) has nowhere to keep
 * them: asked again every `retryMs` until it serves one (it runs no write meanwhile; one may slip in during the
 * last interval); so is a replica's, which marks itself once its node is promoted. A failed try (CLUSTERDOWN,
 * say) does not stop the runtime from starting: it is tried again, less and less often.
 */
export async function markRunningOnNode(control: RedisConnection, storeNode: () => Promise<StoreNode | null>, log: Logger, retryMs = 250): Promise<RunningMark> {
  let marked: string | null = null;
  let counted: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let attempt: Promise<void> = Promise.resolve();
  const tryMark = async (): Promise<boolean> => {
    const node = await storeNode();
    if (node === null || stopped) return false;
    const running = runtimeRunningKeyOfNode(node.id, node.tag);
    const stops = runtimeUncleanStopsKeyOfNode(node.id, node.tag);
    await mark(control, running, stops, log, true);
    marked = running;
    counted = stops;
    return true;
  };
  // After a failure (CLUSTERDOWN, a refused command) the next try waits twice as long, up to MAX_RETRY_MS.
  const retry = (delayMs: number) => {
    timer = setTimeout(() => {
      attempt = tryMark().then(
        (done) => {
          if (!done && !stopped) retry(retryMs);
        },
        (error: unknown) => {
          const next = Math.min(delayMs * 2, MAX_RETRY_MS);
          log.warn({ err: errorMessage(error), retryInMs: next }, 'marking the runtime running on its cluster node failed; trying again');
          if (!stopped) retry(next);
        },
      );
    }, delayMs);
    timer.unref();
  };
  let first: boolean;
  try {
    first = await tryMark();
  } catch (error) {
    // Not a reason to refuse to start: the runtime marks itself at a later try.
    log.warn({ err: errorMessage(error) }, 'marking the runtime running on its cluster node failed; trying again');
    first = false;
  }
  if (!first) {
    log.info('the node is not a primary serving slots yet: the runtime marks itself running once it is');
    retry(retryMs);
  }
  const unmark = async () => {
    stopped = true;
    clearTimeout(timer);
    await attempt.catch(() => undefined);
    if (marked === null) return;
    try {
      await control.call(['DEL', marked]);
    } catch (error) {
      // The slot was resharded away (MOVED), or the node became a replica (READONLY): the mark stays where it is.
      log.info({ err: errorMessage(error), mark: marked }, 'the running mark could not be removed from this node');
    }
  };
  // Thrown as the DEL's failures above would be (MOVED, READONLY): the caller says the stop went uncounted.
  return { unmark, countUncleanStop: async () => (counted === null ? null : increment(control, counted)) };
}

/** Sets the mark; counts an unclean stop when one was there, or creates the count at 0 when `createCount`. */
async function mark(control: RedisConnection, runningKey: string, stopsKey: string, log: Logger, createCount: boolean): Promise<void> {
  const previous = await control.call(['SET', runningKey, String(process.pid), 'GET']);
  if (previous.type !== 'null') {
    const count = await control.call(['INCR', stopsKey]);
    log.warn({ uncleanStops: count.type === 'integer' ? Number(count.value) : null },
      'the last runtime on this redis-server did not stop cleanly: a write it passed on just before may not have been captured; a worker re-captures what MySQL disagrees with');
  } else if (createCount) {
    await control.call(['INCRBY', stopsKey, '0']);
  }
}
