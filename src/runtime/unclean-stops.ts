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
import type { KeptString } from './gears-host.js';
import type { RespValue } from './resp/types.js';

/**
 * What keeps the mark and the count while the runtime runs: the store guard (GearsHost.keepString), which sets
 * either again when it goes away by another hand (evicted, expired, deleted): without the mark a crash would go
 * uncounted, and a count gone or lowered would restart at or below what the worker repaired after, so the next
 * stops would go unrepaired (library-host/store-guard.ts).
 */
export interface StringKeeper {
  keep(kept: KeptString): void;
  /** Called before the runtime deletes the string itself: its mark at a clean stop. */
  release(key: string): void;
}

const NO_KEEPER: StringKeeper = { keep: () => undefined, release: () => undefined };

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
export async function markRunning(control: RedisConnection, log: Logger, keeper: StringKeeper = NO_KEEPER): Promise<RunningMark> {
  const count = new HeldCount(RUNTIME_UNCLEAN_STOPS_KEY, await mark(control, RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY, log, false));
  keeper.keep(keptMark(RUNTIME_RUNNING_KEY));
  keeper.keep(count.kept);
  return {
    unmark: async () => {
      // Released first: the guard must not set again the mark this clean stop deletes.
      keeper.release(RUNTIME_RUNNING_KEY);
      await control.call(['DEL', RUNTIME_RUNNING_KEY]);
    },
    countUncleanStop: () => count.increment(control),
  };
}

/** The running mark as the store guard keeps it: any string there will do for the next runtime. */
function keptMark(key: string): KeptString {
  return { key, what: 'the runtime’s running mark', value: () => String(process.pid), lacks: (now) => now === null };
}

/**
 * The unclean-stop count as this runtime last knew it (read or counted at its mark, or counted by itself since):
 * what the store guard sets it back to. Never more than was counted, so no stop is counted twice; a count that
 * another runtime raised past it is left alone.
 */
class HeldCount {
  readonly #key: string;
  #value: number;

  constructor(key: string, value: number) {
    this.#key = key;
    this.#value = value;
  }

  get kept(): KeptString {
    return {
      key: this.#key,
      what: 'the runtime’s unclean-stop count',
      value: () => String(this.#value),
      lacks: (now) => this.#value > 0 && !(Number(now ?? 0) >= this.#value),
    };
  }

  /** INCR of the count; one that had gone (or gone down) under it is set one past what the runtime knew. */
  async increment(control: RedisConnection): Promise<number> {
    const count = await control.call(['INCR', this.#key]);
    const counted = count.type === 'integer' ? Number(count.value) : Number.NaN;
    if (counted > this.#value) {
      this.#value = counted;
    } else if (Number.isFinite(counted)) {
      this.#value += 1;
      await control.call(['SET', this.#key, String(this.#value)]);
    }
    return Number.isFinite(counted) ? this.#value : counted;
  }
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
export async function markRunningOnNode(control: RedisConnection, storeNode: () => Promise<StoreNode | null>, log: Logger, retryMs = 250, keeper: StringKeeper = NO_KEEPER): Promise<RunningMark> {
  let marked: string | null = null;
  let counted: HeldCount | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let attempt: Promise<void> = Promise.resolve();
  const tryMark = async (): Promise<boolean> => {
    const node = await storeNode();
    if (node === null || stopped) return false;
    const running = runtimeRunningKeyOfNode(node.id, node.tag);
    const stops = runtimeUncleanStopsKeyOfNode(node.id, node.tag);
    const count = new HeldCount(stops, await mark(control, running, stops, log, true));
    marked = running;
    counted = count;
    keeper.keep(keptMark(running));
    keeper.keep(count.kept);
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
    // Released first: the guard must not set again the mark this clean stop deletes.
    keeper.release(marked);
    try {
      await control.call(['DEL', marked]);
    } catch (error) {
      // The slot was resharded away (MOVED), or the node became a replica (READONLY): the mark stays where it is.
      log.info({ err: errorMessage(error), mark: marked }, 'the running mark could not be removed from this node');
    }
  };
  // Thrown as the DEL's failures above would be (MOVED, READONLY): the caller says the stop went uncounted.
  return { unmark, countUncleanStop: async () => (counted === null ? null : counted.increment(control)) };
}

/**
 * Sets the mark; counts an unclean stop when one was there, or creates the count at 0 when `createCount`. Returns
 * the count as it is now (0 when there is none yet).
 */
async function mark(control: RedisConnection, runningKey: string, stopsKey: string, log: Logger, createCount: boolean): Promise<number> {
  const previous = await control.call(['SET', runningKey, String(process.pid), 'GET']);
  let count: RespValue;
  if (previous.type !== 'null') {
    count = await control.call(['INCR', stopsKey]);
    log.warn({ uncleanStops: count.type === 'integer' ? Number(count.value) : null },
      'the last runtime on this redis-server did not stop cleanly: a write it passed on just before may not have been captured; a worker re-captures what MySQL disagrees with');
  } else {
    count = await control.call(createCount ? ['INCRBY', stopsKey, '0'] : ['GET', stopsKey]);
  }
  const value = count.type === 'integer' ? Number(count.value) : count.type === 'blob' ? Number(count.value.toString('latin1')) : 0;
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}
