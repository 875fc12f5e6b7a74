/**
 * Reads the backing server's command table in pieces: `COMMAND LIST`, then `COMMAND INFO` for a few commands
 * at a time, each awaited before the next is sent. One `COMMAND` answers all of it at once (~90 KB of RESP on
 * Redis 7.0, ~100 KB of output buffer), and a server whose `client-output-buffer-limit normal` is below that (a
 * common hardening) closes the connection instead of answering: the runtime could not start. The pieces come
 * back as the one reply would (same entries, subcommands in each entry's 10th field), so CommandTable reads them
 * alike. Sent one at a time on purpose: redis-server answers a pipeline's commands into one output buffer.
 */
import { RedisCommandError } from '../shared/errors.js';
import { CommandTable } from './command-table.js';
import { array, textOf, type RespValue } from './resp/types.js';

/**
 * Commands per `COMMAND INFO`. On Redis 7.0 the eight largest entries (CLUSTER's, CLIENT's, XGROUP's…) come to
 * ~14 KB together, a typical eight to ~3 KB; all of them take 30 round trips.
 */
export const COMMAND_INFO_BATCH = 8;

type Command = readonly string[];

/**
 * The command table as one `COMMAND` reply would give it, read in pieces over `send` (error replies as values).
 * A user who may run `COMMAND` but not `COMMAND LIST` (an ACL that says so) gets the whole `COMMAND`, as before.
 */
export async function readCommandReply(send: (command: Command) => Promise<RespValue>): Promise<RespValue> {
  const list = await send(['COMMAND', 'LIST']);
  if (list.type === 'error') return refusedOrValue(await send(['COMMAND']), 'COMMAND');
  const names = topLevelNames(list);
  const entries: RespValue[] = [];
  for (let at = 0; at < names.length; at += COMMAND_INFO_BATCH) {
    const reply = refusedOrValue(await send(['COMMAND', 'INFO', ...names.slice(at, at + COMMAND_INFO_BATCH)]), 'COMMAND INFO');
    if (reply.type === 'array' || reply.type === 'set') entries.push(...reply.value);
  }
  return array(entries);
}

export async function readCommandTable(send: (command: Command) => Promise<RespValue>): Promise<CommandTable> {
  return CommandTable.fromCommandReply(await readCommandReply(send));
}

/**
 * `COMMAND LIST` names subcommands too (`config|get`): they come inside their container's entry, as in
 * `COMMAND`'s reply.
 */
function topLevelNames(list: RespValue): string[] {
  if (list.type !== 'array' && list.type !== 'set') return [];
  return list.value.map((name) => textOf(name)).filter((name): name is string => name !== null && !name.includes('|'));
}

function refusedOrValue(reply: RespValue, command: string): RespValue {
  if (reply.type === 'error') throw new RedisCommandError(`reading the command table: ${command} refused: ${reply.value}`, { context: { command } });
  return reply;
}
