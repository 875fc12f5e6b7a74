/**
 * Which streams a settled window's events touched, for the stream triggers (TriggerScheduler).
 */
import type { GearsHost, KeyspaceEvent, TouchedStream } from '../gears-host.js';

/**
 * Events that change a stream but add no entry to it (a trim, a deletion of entries, consumer-group bookkeeping):
 * after them, a consumer that had read the stream to its end has nothing new to read.
 */
const ADDS_NO_ENTRY: ReadonlySet<string> = new Set(['xtrim', 'xdel', 'xgroup-create', 'xgroup-createconsumer', 'xgroup-delconsumer', 'xgroup-destroy', 'xgroup-setid']);

/**
 * Each (db, key) touched by an event whose key a stream trigger watches, once, in first-seen order. When no
 * earlier event is still unprocessed (`settled`), with the number of its appends when they were all its events,
 * or 0 when none of its events added an entry; otherwise null. (Appends mixed with a trim are null: the trim may
 * have removed appended entries, so the stream must be read.)
 */
export function streamsTouched(events: readonly KeyspaceEvent[], host: GearsHost, settled: boolean): TouchedStream[] {
  const touched = new Map<string, { db: number; key: Buffer; appends: number; other: boolean; noEntry: boolean }>();
  for (const event of events) {
    // A read of a missing key adds no entry: nothing to read back.
    if (event.event === 'keymiss' || !host.matchesStreamTrigger(event.key)) continue;
    const id = `${event.db}:${event.key.toString('latin1')}`;
    let stream = touched.get(id);
    if (stream === undefined) {
      stream = { db: event.db, key: event.key, appends: 0, other: false, noEntry: false };
      touched.set(id, stream);
    }
    if (event.event === 'xadd') stream.appends += 1;
    else if (ADDS_NO_ENTRY.has(event.event)) stream.noEntry = true;
    else stream.other = true;
  }
  return [...touched.values()].map(({ db, key, appends, other, noEntry }) => ({
    db,
    key,
    appends: !settled || other || (noEntry && appends > 0) ? null : appends,
  }));
}
