/**
 * The backfill loop: SCAN the writer's hashes page by page and hand each page to the library's `backfill`
 * function, which captures every hash's current image into the capture stream (so rows arrive through the
 * worker like any change). After each page the SCAN cursor is stored in `wb:backfill:{w}`: an interrupted
 * run (a signal, a crash, SIGKILL) is resumed by the next one from there; a page re-captured after a crash only
 * appends images that are current anyway. SCAN returns every key that exists for the whole scan; keys created
 * meanwhile are captured by their own writes. A hash whose last write was `#` `+` is left alone by the library
 * while its divergence record holds (counted as kept): the user kept that state out of MySQL on purpose.
 */
import { LibraryFunction, RECAPTURE_MAX_KEYS } from '../shared/protocol.js';
import { ProgressLine, perSecond } from './progress-line.js';
import { RateLimiter } from './rate-limiter.js';
import { KILLED_HINT, recaptureSplitting } from './recapture-splitting.js';
import type { ReconcileRedis } from './reconcile-redis.js';
import { backfillFields, parseBackfillState, type BackfillState } from './reconcile-state.js';
import { scanPattern, type WriterTarget } from './writer-target.js';

export interface BackfillOptions {
  readonly target: WriterTarget;
  /** Glob over the id part of the keys (`--match`). @defaultValue '*' */
  readonly match?: string;
  /** Keys per second at most (`--rate`); none when undefined. */
  readonly rate?: number;
  /** Ignore a stored cursor and start over. */
  readonly restart?: boolean;
  /** Aborted: the run stops after its current page and stores the cursor. */
  readonly signal?: AbortSignal;
  readonly print?: (line: string) => void;
}

export interface BackfillResult {
  readonly state: BackfillState;
  /** The stored cursor this run started at, or null when it started from the beginning. */
  readonly resumedFrom: string | null;
  readonly interrupted: boolean;
  readonly runMs: number;
  /** Keys this run could not capture: their re-capture alone outlasted lock-redis-timeout (recapture-splitting.ts). */
  readonly killed: readonly string[];
}

/** Killed keys named in the closing line; the count covers the rest. */
const MAX_KILLED_SHOWN = 10;

/** Keys of the first library call; later calls are sized to take about PAGE_TARGET_MS each. */
export const FIRST_BACKFILL_PAGE = 25;

/**
 * A library call holds Redis' lock while it runs (live writes wait, and lock-redis-timeout, 500 ms by default,
 * kills a call that runs longer): pages are sized to run about this long. Each image costs ~1 ms on the local
 * runtime (pages of ~20 keys) and microseconds on Redis Stack (pages grow to the 1000-key maximum). Measured on
 * the runtime: 50 ms pages doubled the median live-write latency of 20 ms pages for 8% more keys/s.
 */
const PAGE_TARGET_MS = 20;

/**
 * The next page size, from how long the last call of `keys` keys took: at most double (one fast call on a
 * noisy machine must not make the next one run past the lock timeout), and shrunk at once when slow.
 */
export function nextPageSize(keys: number, elapsedMs: number, cap: number): number {
  const perKey = Math.max(elapsedMs, 1) / Math.max(keys, 1);
  return Math.max(1, Math.min(cap, RECAPTURE_MAX_KEYS, 2 * keys, Math.floor(PAGE_TARGET_MS / perKey)));
}

export async function backfill(redis: ReconcileRedis, options: BackfillOptions): Promise<BackfillResult> {
  const { target } = options;
  const match = options.match ?? '*';
  const print = options.print ?? (() => undefined);
  // With --rate, a page is at most a second of keys, so the limiter's waits stay short.
  const cap = Math.max(1, Math.ceil(options.rate ?? RECAPTURE_MAX_KEYS));
  let page = Math.min(FIRST_BACKFILL_PAGE, cap);
  const saved = parseBackfillState(await redis.readState(target.keys.backfill));
  const resume = options.restart !== true && saved !== null && saved.state !== 'done' && saved.match === match && saved.cursor !== '0';
  const started = Date.now();
  const killed: string[] = [];
  let state: BackfillState = resume
    ? { ...saved, state: 'running', runScanned: 0, updatedAt: started }
    : { state: 'running', match, cursor: '0', scanned: 0, captured: 0, skipped: 0, kept: 0, deadLettered: 0, runScanned: 0, startedAt: started, updatedAt: started };
  print(resume
    ? `backfill ${target.name}: resuming at SCAN cursor ${state.cursor} (${state.scanned} key(s) scanned before)`
    : `backfill ${target.name}: scanning ${scanPattern(target, match)}${options.rate === undefined ? '' : ` at most ${options.rate} keys/s`}`);
  const save = async (next: BackfillState) => {
    state = { ...next, updatedAt: Date.now() };
    await redis.writeState(target.keys.backfill, backfillFields(state));
  };
  await save(state);

  const limiter = new RateLimiter(options.rate);
  const progress = new ProgressLine(print);
  const line = () => `backfill ${target.name}: scanned ${state.scanned} key(s), captured ${state.captured}${state.kept > 0 ? `, kept ${state.kept}` : ''}, ${perSecond(state.runScanned, Date.now() - started)} keys/s`;
  let cursor = state.cursor;
  // Stopping inside a SCAN step keeps the previous step's cursor: the step's pages already captured are
  // captured again on resume (images current anyway), so a slow --rate still stops within a page.
  const interrupted = async (): Promise<BackfillResult> => {
    await save({ ...state, state: 'interrupted' });
    print(`${line()}; interrupted at SCAN cursor ${state.cursor}: run it again to resume`);
    return { state, resumedFrom: resume ? saved.cursor : null, interrupted: true, runMs: Date.now() - started, killed };
  };
  do {
    // SCAN steps are independent of the page size: with few matching keys a small COUNT would mean many steps.
    const step = await redis.scan(cursor, scanPattern(target, match), Math.min(RECAPTURE_MAX_KEYS, cap));
    let { captured, skipped, kept, deadLettered } = state;
    for (let i = 0; i < step.keys.length; ) {
      if (options.signal?.aborted === true) return interrupted();
      const keys = step.keys.slice(i, i + page);
      i += keys.length;
      await limiter.take(keys.length);
      const called = performance.now();
      const counts = await recaptureSplitting(redis, target, LibraryFunction.backfill, keys);
      killed.push(...counts.killed);
      page = nextPageSize(keys.length, performance.now() - called, cap);
      captured += counts.captured;
      skipped += counts.skipped + counts.notHash;
      kept += counts.kept;
      deadLettered += counts.deadLettered;
    }
    cursor = step.cursor;
    await save({ ...state, cursor, captured, skipped, kept, deadLettered, scanned: state.scanned + step.keys.length, runScanned: state.runScanned + step.keys.length });
    progress.update(line);
    if (options.signal?.aborted === true && cursor !== '0') return interrupted();
  } while (cursor !== '0');
  await save({ ...state, state: 'done' });
  progress.update(() => `${line()}; done${state.kept > 0 ? ` (${state.kept} key(s) kept: last written with # + and unchanged since, not replicated on purpose)` : ''}${state.deadLettered > 0 ? ` (${state.deadLettered} key(s) without a valid id dead-lettered: writebehind dlq list)` : ''}`, true);
  if (killed.length > 0) print(`backfill ${target.name}: ${killed.length} key(s) not captured, ${KILLED_HINT}: ${killed.slice(0, MAX_KILLED_SHOWN).join(' ')}${killed.length > MAX_KILLED_SHOWN ? ' …' : ''}`);
  return { state, resumedFrom: resume ? saved.cursor : null, interrupted: false, runMs: Date.now() - started, killed };
}
