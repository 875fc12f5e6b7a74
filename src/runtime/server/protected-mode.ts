/**
 * The runtime's protected mode, after redis-server's: a runtime reachable from other hosts lets anyone who can
 * connect run every command and load libraries, so it listens on a non-loopback interface only when the backing
 * server itself refuses clients that have not authenticated (each runtime client authenticates on its own
 * upstream connection, so the server's password guards the runtime too).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ConfigError } from '../../shared/errors.js';
import { RespDecoder } from '../resp/decoder.js';
import { encodeCommand } from '../resp/encoder.js';
import type { RespValue } from '../resp/types.js';
import type { RedisAddress } from '../../shared/redis-address.js';
import { openSocket } from './redis-connection.js';

/** Throws a ConfigError naming the fix when `bindHost` reaches beyond this machine and the server needs no password. */
export async function assertProtected(bindHost: string, address: RedisAddress): Promise<void> {
  if (await isLoopbackOnly(bindHost)) return;
  if (await requiresAuthentication(address)) return;
  throw new ConfigError(
    `refusing to listen on ${bindHost}: the redis-server behind the runtime (${address.where}) accepts clients without a password, ` +
      'so anyone who can reach the runtime could run any command and load libraries. Either require authentication on that server ' +
      '(requirepass, or ACL users with passwords and `ACL SETUSER default off`) and give the runtime its credentials in --redis ' +
      '(redis://user:password@host:port), or listen on 127.0.0.1, or pass --protected-mode no.',
    { context: { host: bindHost } },
  );
}

async function isLoopbackOnly(host: string): Promise<boolean> {
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  return addresses.length > 0 && addresses.every(isLoopback);
}

function isLoopback(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

/** Whether a connection that has not authenticated is refused (NOAUTH) by the server. */
async function requiresAuthentication(address: RedisAddress): Promise<boolean> {
  const socket = await openSocket(address);
  try {
    const reply = await new Promise<RespValue>((resolve, reject) => {
      const decoder = new RespDecoder((value) => resolve(value));
      socket.on('data', (chunk) => decoder.push(chunk));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('redis-server closed the connection')));
      socket.write(encodeCommand(['PING']));
    });
    return reply.type === 'error' && reply.value.startsWith('NOAUTH');
  } finally {
    socket.destroy();
  }
}
