/**
 * Which streams a settled window's events touched, for the stream triggers (TriggerScheduler).
 */
import type { GearsHost, KeyspaceEvent, TouchedStream } from '../gears-host.js';

/**
 * Events that change a stream but add no entry to it (a trim, a deletion of entries, its last id set,
 * consumer-group bookkeeping): after them, a consumer that had read the stream to its end has nothing new to read.
 */
const ADDS_NO_ENTRY: ReadonlySet<string> = new Set(['xtrim', 'xdel', 'xsetid', 'xgroup-create', 'xgroup-createconsumer', 'xgroup-delconsumer', 'xgroup-destroy', 'xgroup-setid']);

/** The events of the stream class (`NOTIFY_STREAM`, t_stream.c): RedisGears reads the stream on these only. */
const STREAM_EVENTS: ReadonlySet<string> = new Set(['xadd', ...ADDS_NO_ENTRY]);

/**
 * Each (db, key) touched by an event whose key a stream trigger watches, once, in first-seen order, with what its
 * events ask of the consumers (TouchedStream). `appends`: when no earlier event is still unprocessed (`settled`)
 * and the stream's events were stream-class ones only, the number of its appends when they were all appends, or 0
 * when none of them added an entry; otherwise null. (Appends mixed with a trim are null: the trim may have removed
 * appended entries, so the stream must be read.)
 */
export function streamsTouched(events: readonly KeyspaceEvent[], host: GearsHost, settled: boolean): TouchedStream[] {
  interface Seen { db: number; key: Buffer; appends: number; noEntry: boolean; read: boolean; forgetBefore: boolean; forgetAfter: boolean; replaced: boolean }
  const touched = new Map<string, Seen>();
  for (const event of events) {
    // A read of a missing key adds no entry: nothing to read back.
    if (event.event === 'keymiss' || !host.matchesStreamTrigger(event.key)) continue;
    const id = `${event.db}:${event.key.toString('latin1')}`;
    let stream = touched.get(id);
    if (stream === undefined) {
      stream = { db: event.db, key: event.key, appends: 0, noEntry: false, read: false, forgetBefore: false, forgetAfter: false, replaced: false };
      touched.set(id, stream);
    }
    if (event.event === 'del') {
      stream.forgetAfter = true;
    } else if (STREAM_EVENTS.has(event.event)) {
      // The read comes after every del seen so far.
      if (stream.forgetAfter) stream.forgetBefore = true;
      stream.forgetAfter = false;
      stream.read = true;
      if (event.event === 'xadd') stream.appends += 1;
      else stream.noEntry = true;
    } else {
      stream.replaced = true;
    }
  }
  return [...touched.values()].map(({ db, key, appends, noEntry, read, forgetBefore, forgetAfter, replaced }) => ({
    db,
    key,
    read,
    forgetBefore,
    forgetAfter,
    replaced,
    appends: !settled || replaced || forgetBefore || (noEntry && appends > 0) ? null : appends,
  }));
}
