/**
 * A MULTI whose replies keep their bytes. node-redis (v5) gives a multi's type mapping (`withTypeMapping(…)
 * .multi()`) to the queued commands, whose replies are only `QUEUED`, and not to EXEC, whose reply carries
 * every result: a multi's bulk strings come back as text, and values that are not valid UTF-8 lose their bytes
 * (`ff 41` and `fe 41` both become "\uFFFDA"). So here MULTI, the commands and EXEC go out as raw commands of
 * one chain (added in one go, so written back to back; one chain id, so dropped together if the connection
 * is lost), EXEC with bulk strings mapped to Buffers.
 *
 * @internal
 */
import { errorMessage } from '../../shared/errors.js';
import { BUFFERS } from './node-transport.js';
import type { CommandArgs, RawReply } from './redis-transport.js';

/** What a MULTI needs of a node-redis client (one Redis, or one node of a cluster). */
export interface RawCommandClient {
  sendCommand(args: Array<string | Buffer>, options: { chainId: symbol; typeMapping?: typeof BUFFERS.typeMapping }): Promise<unknown>;
}

/**
 * `commands` in one MULTI/EXEC on `client`: each reply in order (bulk strings as Buffers), or the Error of a
 * command that failed inside the transaction (the others still ran). Rejects when the transaction does not run
 * (EXECABORT: a command refused when queued, whose error is the cause) or the connection fails.
 */
export async function rawMulti(client: RawCommandClient, commands: ReadonlyArray<CommandArgs>): Promise<Array<RawReply | Error>> {
  const chainId = Symbol('raw MULTI');
  const sent = [client.sendCommand(['MULTI'], { chainId }), ...commands.map((args) => client.sendCommand(args as Array<string | Buffer>, { chainId }))];
  sent.push(client.sendCommand(['EXEC'], { chainId, typeMapping: BUFFERS.typeMapping }));
  // Every reply awaited, so that a refused command's rejection is handled too.
  const settled = await Promise.allSettled(sent);
  const exec = settled.at(-1)!;
  if (exec.status === 'rejected') {
    const refused = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected' && result !== exec);
    throw refused === undefined ? exec.reason : new Error(`${errorMessage(exec.reason)} (${errorMessage(refused.reason)})`, { cause: refused.reason });
  }
  // Only a WATCH makes EXEC answer null; none is sent here.
  if (!Array.isArray(exec.value)) throw new Error(`EXEC answered ${String(exec.value)} instead of ${commands.length} replies`);
  // A command that failed inside the transaction has an ErrorReply (an Error) for its reply.
  return exec.value as Array<RawReply | Error>;
}
