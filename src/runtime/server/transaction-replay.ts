/**
 * EXEC of a transaction holding TF commands, which the server never saw (the runtime queued them): the server's
 * MULTI is discarded and every queued command is replayed in order, outside MULTI, under the exclusive lock —
 * atomic for the runtime's clients. Runs of server commands go pipelined behind one marker; TF commands run on
 * the library host between them. A WATCH is honoured by asking the server whether a watched key changed,
 * before the DISCARD.
 */
import type { KeyspaceEvent } from '../gears-host.js';
import { encodeCommand } from '../resp/encoder.js';
import { array, error, type RespValue } from '../resp/types.js';
import { callLibrary, isPromise } from './library-call.js';
import { sendFenced } from './marker-fence.js';
import type { RedisConnection } from './redis-connection.js';
import type { QueuedCommand, Session, SessionCommand } from './session.js';
import type { TriggerScheduler } from './trigger-scheduler.js';
import type { UpstreamLink } from './upstream-link.js';
import { watchedKeyChanged } from './upstream-probe.js';

export interface ReplayContext {
  readonly session: Session;
  readonly link: UpstreamLink;
  readonly scheduler: TriggerScheduler;
  readonly control: RedisConnection;
  /** The EXEC's reply: encoded value, or raw bytes from the server. */
  reply(value: RespValue | Buffer): void;
  /** A server command of the transaction ran (FLUSHALL / FLUSHDB have host-side effects). */
  ran(command: SessionCommand, reply: RespValue): void;
}

const NO_BLOCKING = 'ERR Can not block client for background execution, Blocking is not allow inside multi/exec, Lua, or within another module (RM_Call).';

/** Call with the exclusive lock held. */
export async function replayTransaction(exec: SessionCommand, context: ReplayContext): Promise<void> {
  const { session, link, scheduler } = context;
  if (session.transactionServerError) {
    // The server refused a queued command: its EXECABORT is the answer.
    const reply = link.expectValue((raw) => context.reply(raw));
    link.write(exec.raw);
    session.track(exec, await reply);
    return;
  }
  const dirty = session.watching && (await watchedKeyChanged(link, context.control));
  const discarded = link.expectValue();
  link.write(encodeCommand(['DISCARD']));
  await discarded;
  const transaction = session.transaction;
  session.leaveMulti();
  if (session.transactionLocalError) return context.reply(error('EXECABORT Transaction discarded because of previous errors.'));
  if (dirty) return context.reply(Buffer.from(session.protocol === 3 ? '_\r\n' : '*-1\r\n'));
  await scheduler.beforeLibraryWork();
  const replies: RespValue[] = [];
  const clientEvents: KeyspaceEvent[] = [];
  for (let i = 0; i < transaction.length; ) {
    const entry = transaction[i]!;
    if (entry.gears) {
      const { result } = await callLibrary(scheduler, entry.gears, entry.command.args, session.caller(true));
      if (isPromise(result)) result.catch(() => undefined);
      replies.push(isPromise(result) ? error(NO_BLOCKING) : result);
      i++;
      continue;
    }
    const run: QueuedCommand[] = [];
    while (i < transaction.length && !transaction[i]!.gears) run.push(transaction[i++]!);
    const fenced = sendFenced(scheduler, link, run.map((q) => q.command.raw), undefined, undefined, session.user);
    for (let j = 0; j < run.length; j++) {
      const value = await fenced.replies[j]!;
      replies.push(value);
      session.track(run[j]!.command, value);
      context.ran(run[j]!.command, value);
    }
    clientEvents.push(...(await fenced.events));
  }
  context.reply(array(replies));
  await scheduler.settleClientEvents(clientEvents);
}
