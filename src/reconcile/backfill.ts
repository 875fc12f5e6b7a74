/**
 * The backfill loop: SCAN the writer's hashes page by page and hand each page to the library's `backfill`
 * function, which captures every hash's current image into the capture stream (so rows arrive through the
 * worker like any change). After each page the SCAN cursor is stored in `wb:backfill:{w}`: an interrupted
 * run (a signal, a crash, SIGKILL) is resumed by the next one from there; a page re-captured after a crash only
 * appends images that are current anyway. SCAN returns every key that exists for the whole scan; keys created
 * meanwhile are captured by their own writes.
 */
import { LibraryFunction } from '../shared/protocol.js';
import { ProgressLine, perSecond } from './progress-line.js';
import { RateLimiter } from './rate-limiter.js';
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
  /** Keys per library call (and SCAN COUNT). @defaultValue 100 */
  readonly pageSize?: number;
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
}

/** At most this many keys per library call, whatever --rate asks: the call holds Redis' lock while it runs. */
export const DEFAULT_BACKFILL_PAGE = 100;

export async function backfill(redis: ReconcileRedis, options: BackfillOptions): Promise<BackfillResult> {
  const { target } = options;
  const match = options.match ?? '*';
  const print = options.print ?? (() => undefined);
  const page = Math.max(1, Math.min(options.pageSize ?? DEFAULT_BACKFILL_PAGE, Math.ceil(options.rate ?? Infinity)));
  const saved = parseBackfillState(await redis.readState(target.keys.backfill));
  const resume = options.restart !== true && saved !== null && saved.state !== 'done' && saved.match === match && saved.cursor !== '0';
  const started = Date.now();
  let state: BackfillState = resume
    ? { ...saved, state: 'running', runScanned: 0, updatedAt: started }
    : { state: 'running', match, cursor: '0', scanned: 0, captured: 0, skipped: 0, deadLettered: 0, runScanned: 0, startedAt: started, updatedAt: started };
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
  const line = () => `backfill ${target.name}: scanned ${state.scanned} key(s), captured ${state.captured}, ${perSecond(state.runScanned, Date.now() - started)} keys/s`;
  let cursor = state.cursor;
  do {
    if (options.signal?.aborted === true) {
      await save({ ...state, state: 'interrupted' });
      print(`${line()}; interrupted at SCAN cursor ${state.cursor}: run it again to resume`);
      return { state, resumedFrom: resume ? saved.cursor : null, interrupted: true, runMs: Date.now() - started };
    }
    const step = await redis.scan(cursor, scanPattern(target, match), page);
    let { captured, skipped, deadLettered } = state;
    for (let i = 0; i < step.keys.length; i += page) {
      const keys = step.keys.slice(i, i + page);
      await limiter.take(keys.length);
      const counts = await redis.recapture(target, LibraryFunction.backfill, keys);
      captured += counts.captured;
      skipped += counts.skipped + counts.notHash;
      deadLettered += counts.deadLettered;
    }
    cursor = step.cursor;
    await save({ ...state, cursor, captured, skipped, deadLettered, scanned: state.scanned + step.keys.length, runScanned: state.runScanned + step.keys.length });
    progress.update(line);
  } while (cursor !== '0');
  await save({ ...state, state: 'done' });
  progress.update(() => `${line()}; done${state.deadLettered > 0 ? ` (${state.deadLettered} key(s) without a valid id dead-lettered: writebehind dlq list)` : ''}`, true);
  return { state, resumedFrom: resume ? saved.cursor : null, interrupted: false, runMs: Date.now() - started };
}
