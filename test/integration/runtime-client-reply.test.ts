/**
 * CLIENT REPLY through the runtime as redis-server 7.0 applies it (src/runtime/server/reply-mode.ts): queued
 * inside MULTI and run inside EXEC, used up by an empty request, and dropping a protocol error's reply (after
 * which redis-server leaves the connection open). Each case was found by the differential fuzz
 * (bench/resp-fuzz.ts): the same bytes on a fresh connection to redis-server and to the runtime in front of
 * another one get the same reply bytes, and the connection is closed in both cases or in neither.
 */
import { describe, expect, it } from 'vitest';
import { exchange } from '../../bench/resp-fuzz/exchange.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { useRuntimeWithTestHost } from '../helpers/runtime.js';
import { afterAll, beforeAll } from 'vitest';
import { RespSocket } from '../helpers/resp-socket.js';

const env = useRuntimeWithTestHost({ flush: true });
let direct: RedisServer;
beforeAll(async () => {
  direct = await startRedisServer();
  // A user without the right to run CLIENT (the fuzz's auth mode), on both servers.
  for (const port of [direct.port, env.redis.port]) {
    const socket = await RespSocket.open(port);
    socket.send(['ACL', 'SETUSER', 'fzro', 'on', 'nopass', '~fz:*', '+@read', '+ping', '+auth']);
    await socket.read(1);
    socket.close();
  }
});
afterAll(async () => {
  await direct?.stop();
});

/** `stream` sent on a fresh connection to each: one write, or (an array) writes 50 ms apart. */
async function bothWays(stream: string | string[]) {
  const writes = [stream].flat().map((part, i) => ({ bytes: Buffer.from(part, 'latin1'), delayMs: i === 0 ? 0 : 50 }));
  const fromServer = await exchange(direct.port, writes);
  const fromRuntime = await exchange(env.runtime.port, writes, fromServer);
  const seen = (o: typeof fromServer) => ({ replies: o.bytes.toString('latin1'), closed: o.closed, hung: o.hung });
  return { direct: seen(fromServer), proxied: seen(fromRuntime) };
}

describe('CLIENT REPLY as redis-server applies it', () => {
  const cases: [string, string | string[], string, boolean][] = [
    ['OFF queued in MULTI is QUEUED, and silences the rest of its EXEC and what follows', 'MULTI\r\nCLIENT REPLY OFF\r\nPING\r\nEXEC\r\nCLIENT REPLY ON\r\nPING\r\n', '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n+PONG\r\n', false],
    ['SKIP queued in MULTI silences the command after the EXEC', 'MULTI\r\nCLIENT REPLY SKIP\r\nPING\r\nEXEC\r\nPING\r\nECHO a\r\n', '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+PONG\r\n$1\r\na\r\n', false],
    ['ON queued in MULTI while replies are off shows the EXEC’s replies from there on', 'CLIENT REPLY OFF\r\nMULTI\r\nCLIENT REPLY ON\r\nPING\r\nEXEC\r\nECHO a\r\n', '+OK\r\n+PONG\r\n$1\r\na\r\n', false],
    ['SKIP is used up by an empty multibulk', 'CLIENT REPLY SKIP\r\n*0\r\nPING\r\n', '+PONG\r\n', false],
    ['SKIP is used up by a blank inline line', '*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n \r\nPING\r\n', '+PONG\r\n', false],
    ['a protocol error while replies are off: no reply, and the connection stays open', 'CLIENT REPLY OFF\r\n*1\r\n\r\n', '', false],
    ['a protocol error right after SKIP: no reply, and the connection stays open', 'CLIENT REPLY SKIP\r\n*abc\r\n', '', false],
    ['a silenced protocol error read with an answered PING: closed once the PING’s reply is written', 'PING\r\nCLIENT REPLY SKIP\r\n*abc\r\n', '+PONG\r\n', true],
    ['QUIT while replies are off: no reply, the connection stays open, nothing after it is run', 'CLIENT REPLY OFF\r\nQUIT\r\nCLIENT REPLY ON\r\nPING\r\n', '', false],
    ['QUIT while replies are off, read with an answered PING: closed once the PING’s reply is written', 'PING\r\nCLIENT REPLY OFF\r\nQUIT\r\n', '+PONG\r\n', true],
    ['a silenced protocol error read with an EXEC that wrote part of its reply: closed once that is written', ['MULTI\r\nPING\r\nCLIENT REPLY OFF\r\n', 'EXEC\r\n*abc\r\n'], '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+PONG\r\n', true],
    ['a silenced protocol error read apart from the last reply: the connection stays open', ['PING\r\nCLIENT REPLY OFF\r\n', '*abc\r\n'], '+PONG\r\n', false],
    ['nothing after a QUIT is read: malformed bytes behind it get no protocol error', '*1\r\n$4\r\nQUIT\r\n*abc\r\n', '+OK\r\n', true],
    ['a protocol error after the skipped command is answered and closes', 'CLIENT REPLY SKIP\r\nPING\r\n*abc\r\n', '-ERR Protocol error: invalid multibulk length\r\n', true],
  ];
  for (const [title, stream, replies, closed] of cases) {
    it(title, async () => {
      const { direct: fromServer, proxied } = await bothWays(stream);
      expect(fromServer).toEqual({ replies, closed, hung: false });
      expect(proxied).toEqual(fromServer);
    });
  }

  it('the runtime still serves the connection’s later commands after a CLIENT REPLY OFF ran inside EXEC', async () => {
    const { proxied } = await bothWays('MULTI\r\nCLIENT REPLY OFF\r\nEXEC\r\nSET fz:k v\r\nCLIENT REPLY ON\r\nGET fz:k\r\n');
    expect(proxied).toEqual({ replies: '+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n$1\r\nv\r\n', closed: false, hung: false });
  });

  // Found by the fuzz's pubsub mode (bench/resp-fuzz/modes.ts).
  const subscribedCases: [string, string | string[], string, boolean][] = [
    ['OFF silences a subscribed RESP2 connection’s PING, but not its subscriptions', 'CLIENT REPLY OFF\r\nPSUBSCRIBE fz:*\r\nPING\r\n', '*3\r\n$10\r\npsubscribe\r\n$4\r\nfz:*\r\n:1\r\n', false],
    ['OFF silences the error a subscribed RESP2 connection gets for a command it may not run', 'CLIENT REPLY OFF\r\nSUBSCRIBE fz:c1\r\nHELLO 2\r\n', '*3\r\n$9\r\nsubscribe\r\n$5\r\nfz:c1\r\n:1\r\n', false],
    ['RESET while subscribed with replies off turns them on again, its own reply first', 'CLIENT REPLY OFF\r\nSUBSCRIBE fz:c1\r\nRESET\r\nPING\r\n', '*3\r\n$9\r\nsubscribe\r\n$5\r\nfz:c1\r\n:1\r\n+RESET\r\n+PONG\r\n', false],
    ['RESET clears OFF but not a SKIP already in force: its own reply is skipped', 'CLIENT REPLY SKIP\r\nRESET\r\nPING\r\n', '+PONG\r\n', false],
    ['QUIT while replies are off, read with a PSUBSCRIBE whose confirmation is written: closed after it', 'CLIENT REPLY OFF\r\nPSUBSCRIBE fz:?2\r\nQUIT\r\n', '*3\r\n$10\r\npsubscribe\r\n$5\r\nfz:?2\r\n:1\r\n', true],
    ['CLIENT REPLY OFF sent while subscribed is refused and silences nothing', 'SUBSCRIBE fz:c1\r\nCLIENT REPLY OFF\r\nPING\r\n', "*3\r\n$9\r\nsubscribe\r\n$5\r\nfz:c1\r\n:1\r\n-ERR Can't execute 'client|reply': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n", false],
  ];
  for (const [title, stream, replies, closed] of subscribedCases) {
    it(title, async () => {
      const { direct: fromServer, proxied } = await bothWays(stream);
      expect(fromServer).toEqual({ replies, closed, hung: false });
      expect(proxied).toEqual(fromServer);
    });
  }

  // Found by the fuzz's auth mode: the runtime answered CLIENT REPLY itself, whoever asked.
  const userCases: [string, string | string[], string, boolean][] = [
    ['a CLIENT REPLY the user may not run is refused with NOPERM, and changes nothing', 'AUTH fzro x\r\nCLIENT REPLY SKIP\r\nPING\r\n', "+OK\r\n-NOPERM this user has no permissions to run the 'client|reply' command\r\n+PONG\r\n", false],
    ['its NOPERM is silenced by an earlier OFF, which it does not turn on', 'CLIENT REPLY OFF\r\nAUTH fzro x\r\nCLIENT REPLY ON\r\nPING\r\n', '', false],
  ];
  for (const [title, stream, replies, closed] of userCases) {
    it(title, async () => {
      const { direct: fromServer, proxied } = await bothWays(stream);
      expect(fromServer).toEqual({ replies, closed, hung: false });
      expect(proxied).toEqual(fromServer);
    });
  }
});
