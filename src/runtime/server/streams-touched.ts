/**
 * Which streams a settled window's events touched, for the stream triggers (TriggerScheduler).
 */
import type { GearsHost, KeyspaceEvent, TouchedStream } from '../gears-host.js';

/**
 * Each (db, key) touched by an event whose key a stream trigger watches, once, in first-seen order, with the
 * number of its appends when they were all its events (and `settled`: no earlier event is still unprocessed).
 */
export function streamsTouched(events: readonly KeyspaceEvent[], host: GearsHost, settled: boolean): TouchedStream[] {
  const touched = new Map<string, { db: number; key: Buffer; appends: number | null }>();
  for (const event of events) {
    // A read of a missing key adds no entry: nothing to read back.
    if (event.event === 'keymiss' || !host.matchesStreamTrigger(event.key)) continue;
    const id = `${event.db}:${event.key.toString('latin1')}`;
    let stream = touched.get(id);
    if (stream === undefined) {
      stream = { db: event.db, key: event.key, appends: settled ? 0 : null };
      touched.set(id, stream);
    }
    if (stream.appends !== null) stream.appends = event.event === 'xadd' ? stream.appends + 1 : null;
  }
  return [...touched.values()];
}
