/**
 * The batcher's persisted cursor in the writer's meta hash `wb:meta:{<writer>}`: where the last batch ended
 * (`cut`), the counters (`batches`, `captured` = records in published batches) and the `epoch` of the library
 * instance that last took the cursor over. Written at each cut, not per record: the records counted since the
 * cut are the capture stream's entries after `cut`, so they need no persisting (see open-records.ts).
 */
import { MetaField } from '../../src/shared/protocol.js';
import { replyArray, replyOptionalString } from '../replies.js';

export interface PersistedCursor {
  /** Id the last batch ended at, or null before the first batch. */
  readonly cut: string | null;
  /** Batches cut, ever. */
  readonly batches: number;
  /** Records in the batches cut, ever. */
  readonly captured: number;
  /** Token of the library instance whose in-memory count is current; null when none took over yet. */
  readonly epoch: string | null;
}

const CURSOR_FIELDS = [MetaField.cut, MetaField.batches, MetaField.captured, MetaField.epoch];

/** Fields earlier builds of the batcher wrote per record (open, open_since, last); removed when an instance takes over. */
export const LEGACY_CURSOR_FIELDS = ['open', 'open_since', 'last'];

export function readPersistedCursor(client: GearsClient, meta: string): PersistedCursor {
  const values = replyArray(client.call('HMGET', meta, ...CURSOR_FIELDS), 'HMGET').map((value) => replyOptionalString(value, 'HMGET'));
  const [cut, batches, captured, epoch] = values;
  return {
    cut: cut ?? null,
    batches: batches == null ? 0 : Number(batches),
    captured: captured == null ? 0 : Number(captured),
    epoch: epoch ?? null,
  };
}
