/**
 * A stream trigger and its per-stream consumer state (stream_reader.rs): where it reads from, which ids are in
 * flight, and the stats TFUNCTION LIST vv shows. The state map is shared with the trigger of the same name in
 * a REPLACEd library, so positions and stats survive an upgrade.
 */
import { compareStreamIds, nextStreamId, streamIdMs } from '../../shared/stream-id.js';
import { hasPrefix } from '../../shared/byte-prefix.js';

export interface StreamConsumerState {
  readonly db: number;
  readonly key: Buffer;
  /** streamStateKey(db, key), its key in the state map: asked on every acknowledgement. */
  readonly stateKey: string;
  /** Id of the last entry read (delivered), pending or not; null before the first one. */
  lastReadId: string | null;
  /** Delivered and not yet acknowledged, in id order. */
  readonly pending: string[];
  /** The last read found nothing after `lastReadId`: the stream's next entries follow it directly. */
  caughtUp: boolean;
  lastError: string | null;
  lastProcessedTime: number;
  totalProcessedTime: number;
  lastLag: number;
  totalLag: number;
  recordsProcessed: number;
}

/** Key of a consumed stream in the state map: db and key bytes. */
export function streamStateKey(db: number, key: Buffer): string {
  return `${db}:${key.toString('hex')}`;
}

export class StreamTrigger {
  constructor(
    readonly name: string,
    readonly prefix: Buffer,
    /** The guest's index of the callback. */
    readonly index: number,
    readonly isAsync: boolean,
    readonly window: number,
    readonly trim: boolean,
    readonly description: string | null,
    readonly streams: Map<string, StreamConsumerState> = new Map(),
  ) {}

  matches(key: Buffer): boolean {
    return hasPrefix(key, this.prefix);
  }

  state(db: number, key: Buffer, stateKey = streamStateKey(db, key)): StreamConsumerState {
    let state = this.streams.get(stateKey);
    if (!state) {
      state = {
        db, key: Buffer.from(key), stateKey, lastReadId: null, pending: [], caughtUp: false, lastError: null,
        lastProcessedTime: 0, totalProcessedTime: 0, lastLag: 0, totalLag: 0, recordsProcessed: 0,
      };
      this.streams.set(stateKey, state);
    }
    return state;
  }

  /**
   * Records the end of one entry (ConsumerInfo::ack_id) and returns whether it was the oldest pending one, i.e.
   * whether the acknowledged head moved.
   */
  static ack(state: StreamConsumerState, id: string, startedAt: number, error: string | null): boolean {
    const now = Date.now();
    state.recordsProcessed += 1;
    state.lastProcessedTime = Math.max(0, Math.round(performance.now() - startedAt));
    state.totalProcessedTime += state.lastProcessedTime;
    state.lastLag = Math.max(0, now - streamIdMs(id));
    state.totalLag += state.lastLag;
    if (error !== null) state.lastError = error;
    // The oldest pending one, usually (a sync callback's, always): found without a search.
    const index = state.pending[0] === id ? 0 : state.pending.findIndex((p) => compareStreamIds(p, id) === 0);
    if (index >= 0) state.pending.splice(index, 1);
    return index === 0;
  }

  /** The id every entry before which this consumer is done with (first pending, or the one after the last read). */
  static trimPoint(state: StreamConsumerState): string | null {
    if (state.pending.length > 0) return state.pending[0]!;
    if (state.lastReadId === null) return null;
    return idAfter(state.lastReadId);
  }
}

/** Digits of a sequence number that a Number increments exactly. */
const EXACT_SEQ_DIGITS = 15;

/** nextStreamId, computed once per acknowledged entry: a sequence number of a few digits needs no BigInt. */
function idAfter(id: string): string {
  const dash = id.indexOf('-');
  if (dash <= 0 || id.length - dash - 1 > EXACT_SEQ_DIGITS || id.charCodeAt(0) === 0x30) return nextStreamId(id);
  return `${id.slice(0, dash)}-${Number(id.slice(dash + 1)) + 1}`;
}
