/**
 * The ordering fence for commands that may fire a trigger: `PUBLISH <marker> <seq>` is pipelined right behind
 * them on the same connection, so when the keyspace subscriber sees marker `seq` it has seen every event they
 * caused, and no other. Used with the exclusive execution lock held, so no other command's events interleave.
 */
import type { KeyspaceEvent } from '../gears-host.js';
import type { RespValue } from '../resp/types.js';
import { MARKER_PUMP_MS, type TriggerScheduler } from './trigger-scheduler.js';
import type { UpstreamLink } from './upstream-link.js';
import { encodeCommand } from '../resp/encoder.js';

export interface Fenced {
  /** The commands' replies, in order. */
  readonly replies: readonly Promise<RespValue>[];
  /** Every keyspace event the commands caused; resolves after their replies. */
  readonly events: Promise<KeyspaceEvent[]>;
  /** The read sent ahead behind them (read-ahead.ts), fenced by a marker of its own. */
  readonly readAhead?: { readonly reply: Promise<RespValue>; readonly events: Promise<KeyspaceEvent[]> };
}

/**
 * Sends `commands` with a marker behind them; `onFirstReply` gets the first reply's bytes (to forward them).
 * `readAhead`, a read for the library code the commands' events will run, follows with a second marker, so its
 * events stay apart from theirs.
 */
export function sendFenced(scheduler: TriggerScheduler, link: UpstreamLink, commands: readonly Buffer[], onFirstReply?: (raw: Buffer) => void, readAhead?: readonly Buffer[]): Fenced {
  const fence = fenceAfter(scheduler, link, commands, onFirstReply);
  const ahead = readAhead === undefined ? undefined : fenceAfter(scheduler, link, [encodeCommand(readAhead)]);
  link.write(Buffer.concat([...fence.bytes, ...(ahead?.bytes ?? [])]));
  // A fast command's reply and marker are back within tens of microseconds: read them now instead of after an
  // event-loop turn (a slow one's come through the event loop once the budget is spent).
  link.pumpReplies(MARKER_PUMP_MS);
  scheduler.subscriber.pumpUntilMarker((ahead ?? fence).seq, MARKER_PUMP_MS);
  return { replies: fence.replies, events: fence.events, ...(ahead && { readAhead: { reply: ahead.replies[0]!, events: ahead.events } }) };
}

/** Expects the replies of `commands` and of a marker behind them, and returns the bytes to send. */
function fenceAfter(scheduler: TriggerScheduler, link: UpstreamLink, commands: readonly Buffer[], onFirstReply?: (raw: Buffer) => void) {
  const marker = scheduler.openMarker();
  const replies = commands.map((_, i) => link.expectValue(i === 0 ? onFirstReply : undefined));
  const published = link.expectValue();
  const events = (async () => {
    try {
      for (const reply of replies) await reply;
      // The connection's user may not be allowed to PUBLISH: the marker then goes on the control connection.
      if ((await published).type === 'error') await scheduler.publishMarker(marker.seq);
      return await marker.events;
    } catch (cause) {
      marker.cancel();
      throw cause;
    }
  })();
  // Awaited by the caller only after the replies: a failure before then must not be an unhandled rejection.
  events.catch(() => undefined);
  return { seq: marker.seq, replies, events, bytes: [...commands, encodeCommand(marker.command)] };
}
