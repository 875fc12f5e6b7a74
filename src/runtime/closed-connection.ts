/**
 * What the runtime says when redis-server closes one of its own connections (control, sync, pool) with a reply
 * awaited. The command was just sent, so the server did not find it idle: most likely the reply outgrew the
 * server's `client-output-buffer-limit` for normal clients, which the runtime's connections are held to like any
 * client's. Redis 7.0 tells no client why it closed it, so the message names that first, how to see it, and the
 * other causes.
 */

/** The error message: names the server (`where`, no password), the connection, the command and the causes. */
export function closedBeforeAnswer(where: string, role: string, command: string): string {
  return `redis-server at ${where} closed the runtime's ${role} connection before answering ${command}: a reply larger than its client-output-buffer-limit for normal clients closes the connection (its log then says "scheduled to be closed ASAP for overcoming of output buffer limits"; CONFIG GET client-output-buffer-limit), as do CLIENT KILL and a shutdown`;
}

/** Commands whose first argument names a subcommand. */
const CONTAINERS = new Set(['ACL', 'CLIENT', 'CLUSTER', 'COMMAND', 'CONFIG', 'FUNCTION', 'LATENCY', 'MEMORY', 'MODULE', 'OBJECT', 'PUBSUB', 'SCRIPT', 'SLOWLOG', 'XGROUP', 'XINFO']);

/** `GET`, `COMMAND INFO`: what a message names a command by (never its keys or values). */
export function commandName(args: readonly (string | Uint8Array)[]): string {
  const name = text(args[0]).toUpperCase();
  const sub = args.length > 1 && CONTAINERS.has(name) ? ` ${text(args[1]).toUpperCase()}` : '';
  return `${name}${sub}`;
}

function text(arg: string | Uint8Array | undefined): string {
  return arg === undefined ? '' : typeof arg === 'string' ? arg : Buffer.from(arg).toString('latin1');
}
