/**
 * The records counted since the last cut ("open"), kept in the library's memory instead of the meta hash, so
 * counting a captured record costs no Redis call. The count is derived state: the open records are exactly
 * the capture stream's entries after meta `cut` (nothing trims past `cut`), so it is rebuilt from the stream
 * whenever it cannot be trusted, and nothing is lost by not persisting it.
 *
 * When it cannot be trusted: after a load (a restart, a redeploy, a promoted replica: a fresh JS context),
 * and when the meta hash says another instance took over or the data was reset (FLUSHALL, DEL of the meta
 * hash, a failover and back). Taking over writes this instance's `epoch` into meta; every cut, and the `cut`
 * function, first re-read meta `cut`, `batches` and `epoch` (one HMGET) and rebuild on any difference, so a
 * descriptor's `from` is always the persisted `cut` and batches stay contiguous.
 */
import { compareStreamIds } from '../../src/shared/stream-id.js';
import { MetaField } from '../../src/shared/protocol.js';
import { decodeUtf8 } from '../bytes.js';
import { replyArray, replyOptionalString } from '../replies.js';
import type { WriterContext } from '../writer-context.js';
import { LEGACY_CURSOR_FIELDS, readPersistedCursor, type PersistedCursor } from './writer-meta.js';

export interface OpenRecords {
  /** The persisted cursor this count continues. */
  readonly persisted: PersistedCursor;
  /** Records after `persisted.cut` counted so far. */
  readonly open: number;
  /** Id of the first of them (its ms is when the oldest open record was captured), or null. */
  readonly firstOpen: string | null;
  /** Id of the last record counted: a delivery at or before it is a re-delivery. */
  readonly last: string | null;
}

/** Asked once per captured record: TypeScript `private` fields, as the bundle's ES2020 target makes `#` ones WeakMaps. */
export class OpenRecordCounts {
  private readonly batchSize: number;
  /** This JS context's token: stored in meta when it takes a writer over. */
  private readonly epoch: string;
  /** By capture stream: one count per writer, or per partition of a partitioned writer. */
  private readonly byWriter = new Map<string, OpenRecords>();
  /** Capture streams with a batch cut by this instance and not committed yet. */
  private readonly uncommittedStreams = new Set<string>();

  constructor(batchSize: number) {
    this.batchSize = batchSize;
    this.epoch = `${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  }

  /** The in-memory count, unchecked; undefined before this instance took the writer over. */
  current(writer: WriterContext): OpenRecords | undefined {
    return this.byWriter.get(writer.keys.changes);
  }

  /** The count, checked against meta (one HMGET), or rebuilt from the stream up to `through` when stale. */
  checked(client: GearsClient, writer: WriterContext, through: () => string | null): OpenRecords {
    const persisted = readPersistedCursor(client, writer.keys.meta);
    const current = this.byWriter.get(writer.keys.changes);
    if (current !== undefined && persisted.epoch === this.epoch && persisted.cut === current.persisted.cut && persisted.batches === current.persisted.batches) {
      return current;
    }
    return this.takeOver(client, writer, persisted, through());
  }

  /**
   * Rebuilds the count from the stream: the entries after `cut`, through `through`, at most batch.size of them
   * (more only when batch.size shrank; the batcher then cuts at once). Writes this instance's epoch.
   *
   * The batches cut before (by an earlier instance, or on the node a migrated slot came from) may not be
   * committed yet: one HGET of meta `committed` puts the log into the ready index then. Without it a log taken
   * over with nothing open (the stream trigger reading a log that came with its slot, every record cut) would
   * be listed by neither `ready` nor `adopt` (which trusts a count this instance holds) until a new record of it
   * is cut: a batch its dead worker held, never reclaimed.
   */
  takeOver(client: GearsClient, writer: WriterContext, persisted: PersistedCursor, through: string | null): OpenRecords {
    const stream = writer.keys.changes;
    const ids = through === null ? [] : openRecordIds(client, writer, persisted.cut, through, this.batchSize);
    client.call('HSET', writer.keys.meta, MetaField.epoch, this.epoch);
    client.call('HDEL', writer.keys.meta, ...LEGACY_CURSOR_FIELDS);
    const open: OpenRecords = {
      persisted: { ...persisted, epoch: this.epoch },
      open: ids.length,
      firstOpen: ids[0] ?? null,
      last: ids[ids.length - 1] ?? persisted.cut,
    };
    this.byWriter.set(stream, open);
    if (persisted.cut !== null && !this.uncommittedStreams.has(stream)) {
      const committed = replyOptionalString(client.call('HGET', writer.keys.meta, MetaField.committed), 'HGET');
      if (committed === null || compareStreamIds(committed, persisted.cut) < 0) this.uncommittedStreams.add(stream);
    }
    return open;
  }

  /** Counts one more record (no Redis call). Once per captured record: a literal, not a spread. */
  counted(writer: WriterContext, previous: OpenRecords, id: string): OpenRecords {
    const next: OpenRecords = { persisted: previous.persisted, open: previous.open + 1, firstOpen: previous.firstOpen ?? id, last: id };
    this.byWriter.set(writer.keys.changes, next);
    return next;
  }

  /** After a cut: nothing open, the persisted cursor as just written; the log has a batch to commit. */
  cutAt(writer: WriterContext, persisted: PersistedCursor, last: string | null): void {
    this.byWriter.set(writer.keys.changes, { persisted, open: 0, firstOpen: null, last });
    this.uncommittedStreams.add(writer.keys.changes);
  }

  /** After `committed` through `committed`: the log has nothing left to commit once that reaches its last cut. */
  committedThrough(writer: WriterContext, committed: string): void {
    const cut = this.byWriter.get(writer.keys.changes)?.persisted.cut ?? null;
    if (cut === null || compareStreamIds(committed, cut) >= 0) this.uncommittedStreams.delete(writer.keys.changes);
  }

  /** Drops what is known of a log whose slot left this node (a migration). */
  forget(stream: string): void {
    this.byWriter.delete(stream);
    this.uncommittedStreams.delete(stream);
  }

  /** Capture streams with records counted but not cut yet. */
  *withOpenRecords(): IterableIterator<string> {
    for (const [stream, open] of this.byWriter) if (open.open > 0) yield stream;
  }

  /**
   * Capture streams this instance cut a batch of that is not committed yet (ready.ts). Memory only: a log cut
   * by an earlier instance (before a restart, a redeploy, a failover) is not among them.
   */
  uncommitted(): ReadonlySet<string> {
    return this.uncommittedStreams;
  }
}

/** Ids of the capture stream's entries after `cut` through `through` (an id or `+`), at most `limit`. */
export function openRecordIds(client: GearsClient, writer: WriterContext, cut: string | null, through: string, limit: number): string[] {
  if (through !== '+' && cut !== null && compareStreamIds(through, cut) <= 0) return [];
  const from = cut === null ? '-' : `(${cut}`;
  // Raw: the values may be any bytes; only the ids (ASCII) are decoded.
  const entries = replyArray(client.callRaw('XRANGE', writer.keys.changes, from, through, 'COUNT', String(limit)), 'XRANGE');
  return entries.map((entry) => {
    const id = replyArray(entry, 'XRANGE')[0];
    const text = id instanceof ArrayBuffer ? decodeUtf8(id) : null;
    if (text === null) throw `ERR XRANGE ${writer.keys.changes} replied an entry without an id`;
    return text;
  });
}
