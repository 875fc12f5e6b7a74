/**
 * A stream trigger and its per-stream consumer state (stream_reader.rs): where it reads from, which ids are in
 * flight, and the stats TFUNCTION LIST vv shows. The state map is shared with the trigger of the same name in
 * a REPLACEd library, so positions and stats survive an upgrade.
 */
import { compareStreamIds, nextStreamId, streamIdMs } from '../../shared/stream-id.js';

export interface StreamConsumerState {
  readonly db: number;
  readonly key: Buffer;
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
    return key.length >= this.prefix.length && key.subarray(0, this.prefix.length).equals(this.prefix);
  }

  state(db: number, key: Buffer): StreamConsumerState {
    const stateKey = streamStateKey(db, key);
    let state = this.streams.get(stateKey);
    if (!state) {
      state = {
        db, key: Buffer.from(key), lastReadId: null, pending: [], caughtUp: false, lastError: null,
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
    const index = state.pending.findIndex((p) => compareStreamIds(p, id) === 0);
    if (index >= 0) state.pending.splice(index, 1);
    return index === 0;
  }

  /** The id every entry before which this consumer is done with (first pending, or the one after the last read). */
  static trimPoint(state: StreamConsumerState): string | null {
    if (state.pending.length > 0) return state.pending[0]!;
    if (state.lastReadId === null) return null;
    return nextStreamId(state.lastReadId);
  }
}
