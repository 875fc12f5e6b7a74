/**
 * Narrowing of command replies. RedisGears converts RESP3 to JS (integers are BigInt, nil is null, maps are
 * objects); a reply of another shape than the command documents is a bug, so these throw instead of guessing.
 */

export function replyString(reply: GearsReply, command: string): string {
  if (typeof reply === 'string') return reply;
  if (reply instanceof String) return reply.toString();
  throw `ERR ${command} replied ${describe(reply)}, expected a string`;
}

export function replyOptionalString(reply: GearsReply, command: string): string | null {
  return reply === null ? null : replyString(reply, command);
}

export function replyInteger(reply: GearsReply, command: string): bigint {
  if (typeof reply === 'bigint') return reply;
  throw `ERR ${command} replied ${describe(reply)}, expected an integer`;
}

export function replyArray(reply: GearsReply, command: string): GearsReply[] {
  if (Array.isArray(reply)) return reply;
  throw `ERR ${command} replied ${describe(reply)}, expected an array`;
}

function describe(reply: GearsReply): string {
  if (reply === null) return 'null';
  if (reply instanceof ArrayBuffer) return 'binary data';
  if (Array.isArray(reply)) return 'an array';
  return `a ${typeof reply}`;
}
