/**
 * redis-server reads a client that has not authenticated, on a server that needs a password, with tighter limits
 * (networking.c of Redis 7.0: a multibulk of more than 10 arguments, a bulk of more than 16384 bytes), so that it
 * never buffers much for someone it does not know. The runtime reads client requests itself, whole, before the
 * server sees them: it must refuse them too, with the server's texts, or it waits for (and buffers) up to 1 GB.
 * Found by Redis's own Tcl suite (unit/auth: "For unauthenticated clients multibulk and bulk length are limited"
 * hung through the runtime).
 */
import { describe, expect, it } from 'vitest';
import { useGearsEnv } from './gears-support.js';
import { RespSocket } from '../helpers/resp-socket.js';

const env = useGearsEnv();

async function exchange(port: number, bytes: string, replies: number): Promise<{ replies: string; closed: boolean }> {
  const socket = await RespSocket.open(port);
  socket.write(bytes);
  const text = await socket.readBytes(replies, 3000).catch((cause: unknown) => String(cause));
  for (let i = 0; i < 40 && !socket.isClosed; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  const closed = socket.isClosed;
  socket.close();
  return { replies: text, closed };
}

const bothWays = async (bytes: string, replies: number) => ({
  direct: await exchange(env.redis.port, bytes, replies),
  proxied: await exchange(env.runtime.port, bytes, replies),
});

describe('a client not yet authenticated, on a server with a password', () => {
  it('is refused a multibulk of more than 10 arguments and a bulk over 16384 bytes, as by the server; once authenticated, not', async () => {
    await env.resp2.sendCommand(['CONFIG', 'SET', 'requirepass', 'secret']);
    await env.resp2.sendCommand(['AUTH', 'secret']);
    try {
      const multibulk = await bothWays('*100\r\n', 1);
      expect(multibulk.direct).toEqual({ replies: '-ERR Protocol error: unauthenticated multibulk length\r\n', closed: true });
      expect(multibulk.proxied).toEqual(multibulk.direct);
      const bulk = await bothWays('*1\r\n$100000000\r\n', 1);
      expect(bulk.direct).toEqual({ replies: '-ERR Protocol error: unauthenticated bulk length\r\n', closed: true });
      expect(bulk.proxied).toEqual(bulk.direct);
      // Ten arguments and 16384 bytes are still read, and answered NOAUTH.
      const small = await bothWays(`*10\r\n$3\r\nDEL\r\n${'$1\r\nx\r\n'.repeat(9)}*2\r\n$4\r\nECHO\r\n$16384\r\n${'y'.repeat(16384)}\r\n`, 2);
      expect(small.direct.replies).toBe('-NOAUTH Authentication required.\r\n-NOAUTH Authentication required.\r\n');
      expect(small.proxied).toEqual(small.direct);
      // AUTH pipelined ahead of a long command: the server reads the command after the AUTH, authenticated.
      const args = Array.from({ length: 11 }, (_, i) => `k${i}`);
      const authed = await bothWays(`*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n*12\r\n$3\r\nDEL\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`, 2);
      expect(authed.direct).toEqual({ replies: '+OK\r\n:0\r\n', closed: false });
      expect(authed.proxied).toEqual(authed.direct);
    } finally {
      await env.resp2.sendCommand(['CONFIG', 'SET', 'requirepass', '']);
    }
  });
});
