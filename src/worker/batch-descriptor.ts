/** Batch descriptors (entries of `wb:batches:{<writer>}`): which capture records one batch covers. */
import { BatchField } from '../shared/protocol.js';
import { entryText, type StreamEntry } from './redis/stream-entry.js';

const STREAM_ID = /^\d+-\d+$/;

export interface BatchDescriptor {
  /** The descriptor's own id in the batches stream (what XACK and `committed` take). */
  readonly id: string;
  readonly stream: string;
  /** Exclusive: the previous batch's `to`, "0-0" for the first. */
  readonly from: string;
  /** Inclusive: the batch's last capture id. */
  readonly to: string;
  readonly count: number;
  /** The captureStamp of the writer's config in the library that cut it; undefined from earlier libraries. */
  readonly stamp: string | undefined;
}

export function parseBatchDescriptor(entry: StreamEntry): BatchDescriptor | { error: string } {
  const stream = entryText(entry, BatchField.stream);
  const from = entryText(entry, BatchField.from);
  const to = entryText(entry, BatchField.to);
  const count = Number(entryText(entry, BatchField.count) ?? 'NaN');
  const stamp = entryText(entry, BatchField.config);
  if (stream === undefined || from === undefined || to === undefined || !STREAM_ID.test(from) || !STREAM_ID.test(to)) {
    return { error: `batch descriptor ${entry.id} lacks a valid stream/from/to` };
  }
  return { id: entry.id, stream, from, to, count: Number.isFinite(count) ? count : 0, stamp };
}
