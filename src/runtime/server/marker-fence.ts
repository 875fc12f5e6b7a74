/**
 * The ordering fence for commands that may fire a trigger: `PUBLISH <marker> <seq>` is pipelined right behind
 * them on the same connection, so when the keyspace subscriber sees marker `seq` it has seen every event they
 * caused, and no other. Used with the exclusive execution lock held, so no other command's events interleave.
 */
import type { KeyspaceEvent } from '../gears-host.js';
import type { RespValue } from '../resp/types.js';
import { MARKER_PUMP_MS, SERVER_EVENTS, type TriggerScheduler } from './trigger-scheduler.js';
import type { UpstreamLink } from './upstream-link.js';
import { encodeCommand } from '../resp/encoder.js';

export interface Fenced {
  /** The commands' replies, in order. */
  readonly replies: readonly Promise<RespValue>[];
  /** Every keyspace event the commands caused; resolves after their replies. */
  readonly events: Promise<KeyspaceEvent[]>;
  /** The read sent ahead behind them (read-ahead.ts), fenced by a marker of its own. */
  readonly readAhead?: { readonly reply: Promise<RespValue>; readonly events: Promise<KeyspaceEvent[]> };
  /**
   * Every reply and marker was in when sendFenced returned: the promises above settle without an event-loop turn
   * (unless a marker PUBLISH was refused, which leaves its marker out).
   */
  readonly arrived: boolean;
}

/**
 * Sends `commands` with a marker behind them; `onFirstReply` gets the first reply's bytes (to forward them).
 * `readAhead`, a read for the library code the commands' events will run, follows with a second marker, so its
 * events stay apart from theirs. `user`: whose connection `link` is (TriggerScheduler.markerRides).
 */
export function sendFenced(scheduler: TriggerScheduler, link: UpstreamLink, commands: readonly Buffer[], onFirstReply?: (raw: Buffer) => void, readAhead?: readonly Buffer[], user?: string): Fenced {
  const rides = scheduler.markerRides(user);
  const fence = fenceAfter(scheduler, link, commands, rides, onFirstReply);
  if (readAhead === undefined) {
    link.write(fence.bytes.length === 1 ? fence.bytes[0]! : Buffer.concat(fence.bytes));
    return { replies: fence.replies, events: fence.events, arrived: pumpFenced(scheduler, link, fence.seq) };
  }
  const ahead = fenceAfter(scheduler, link, [encodeCommand(readAhead)], rides, undefined, true);
  link.write(Buffer.concat(fence.bytes.concat(ahead.bytes)));
  // Markers arrive in order: the read's marker in means the command's is in too, unless the command's PUBLISH was
  // refused (then the command's marker is still awaited).
  const arrived = pumpFenced(scheduler, link, ahead.seq) && scheduler.subscriber.pumpUntilMarker(fence.seq, 0);
  return { replies: fence.replies, events: fence.events, readAhead: { reply: ahead.replies[0]!, events: ahead.events }, arrived };
}

/**
 * A fast command's reply and marker are back within tens of microseconds: reads them now instead of after an
 * event-loop turn (a slow one's come through the event loop once the budget is spent). True when all came.
 */
function pumpFenced(scheduler: TriggerScheduler, link: UpstreamLink, lastSeq: number): boolean {
  link.pumpReplies(MARKER_PUMP_MS);
  return scheduler.subscriber.pumpUntilMarker(lastSeq, MARKER_PUMP_MS) && link.pending === 0;
}

/**
 * Expects the replies of `commands` and of a marker behind them, and returns the bytes to send. `rides`: the
 * marker follows them on `link`; else it is a fence sent once their replies are in. `libraryWork`: the commands
 * stand in for library code (a read ahead), whose events fire nothing but the server's own.
 */
function fenceAfter(scheduler: TriggerScheduler, link: UpstreamLink, commands: readonly Buffer[], rides: boolean, onFirstReply?: (raw: Buffer) => void, libraryWork = false) {
  const marker = scheduler.openMarker();
  const replies = commands.map((_, i) => link.expectValue(i === 0 ? onFirstReply : undefined));
  const published = rides ? link.expectValue() : undefined;
  const events = (async () => {
    try {
      for (const reply of replies) await reply;
      if (published === undefined) scheduler.subscriber.fence(marker.seq);
      // The connection's user may not be allowed to PUBLISH: the marker then goes on the control connection.
      else if ((await published).type === 'error') await scheduler.publishMarker(marker.seq);
      return await marker.events;
    } catch (cause) {
      // The replies are lost (the client's connection closed), but the commands may have run. A marker still to
      // come leaves their events unclaimed by itself; one that came already handed them to this fence, which
      // cannot settle them now: they go back to the subscriber, so their triggers still fire, in the background.
      if (!marker.cancel()) {
        void marker.events.then(
          (events) => scheduler.subscriber.giveBack(libraryWork ? events.filter((event) => SERVER_EVENTS.has(event.event)) : events),
          () => undefined,
        );
      }
      throw cause;
    }
  })();
  // Awaited by the caller only after the replies: a failure before then must not be an unhandled rejection.
  events.catch(() => undefined);
  return { seq: marker.seq, replies, events, bytes: published === undefined ? [...commands] : [...commands, encodeCommand(marker.command)] };
}
