/**
 * The fuzz's modes beyond the first one (`basic`: bench/resp-fuzz/generate.ts, no library, one connection): each
 * is a generator of cases, deterministic by seed and index like the first.
 *
 * - `library`: the runtime runs FUZZ_LIBRARY, whose keyspace trigger watches every key the cases write (`fz:`) and
 *   whose stream trigger watches `fz:s`, so each write takes the exclusive-lock/marker path; the triggers write
 *   only `trg:*`, which no case reads, and redis-server has no trigger. Half the cases are the basic mix plus
 *   stream commands, compared byte for byte; the other half interleave TF* commands (TFCALL, TFCALLASYNC,
 *   TFUNCTION LOAD/LIST/DELETE, good and bad) with commands that get one reply each, and their replies are matched
 *   to the pieces: a TF* reply is left out (redis-server has no such command), every other must be the same.
 * - `pubsub`: SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE and their UN-, PUBLISH/SPUBLISH from the same connection and from a
 *   second one, keyspace notifications of `fz:` keys written by the second, RESP2 and RESP3 (push), RESET, PING and
 *   other commands while subscribed.
 * - `blocking`: BLPOP/BRPOP/BLMOVE/BLMPOP/BZPOPMIN/XREAD BLOCK with timeouts of 400-600 ms, served by a push from
 *   the second connection or timing out, inside MULTI too, and commands pipelined behind them.
 * - `auth`: AUTH and HELLO … AUTH with good and bad credentials for FUZZ_USERS (set on both servers), the default
 *   user (no password), unknown users; then commands inside and outside the user's key pattern.
 * - `large`: arguments of 1-4 MB, commands of thousands of arguments, inline lines around redis-server's 64 KB
 *   inline limit, lengths and counts past its limits.
 * - `mixed`: the five above in turn (case index modulo 5), with the library loaded.
 */
import { command, HASH, inline, int, KEYS, multibulk, piece, pick, randomPlan, seededRandom, value, generateCase, type FuzzCase, type Piece, type Random } from './generate.js';

export const MODES = ['basic', 'library', 'pubsub', 'blocking', 'auth', 'large', 'mixed'] as const;
export type Mode = (typeof MODES)[number];
const MIXED: readonly Mode[] = ['library', 'pubsub', 'blocking', 'auth', 'large'];

/** Whether the runtime runs FUZZ_LIBRARY in this mode. */
export const withLibrary = (mode: Mode): boolean => mode === 'library' || mode === 'mixed';

/** The library the runtime runs in `library` and `mixed` modes: its triggers write only `trg:*` keys. */
export const FUZZ_LIBRARY = `#!js api_version=1.0 name=fzlib
redis.registerKeySpaceTrigger('fzks', 'fz:', (c, d) => { c.call('incr', 'trg:ks'); });
redis.registerStreamTrigger('fzst', 'fz:s', (c, d) => { c.call('incr', 'trg:st'); });
redis.registerFunction('get', (c, ...a) => c.call('get', a[0] ?? 'fz:a'));
redis.registerAsyncFunction('aget', async (c, ...a) => c.block((b) => b.call('get', a[0] ?? 'fz:a')));
`;

/** Set on both servers before the first case (ACL SETUSER arguments after the name). */
export const FUZZ_USERS: readonly (readonly string[])[] = [
  ['fz', 'reset', 'on', '>fzpw', '~fz:*', '&*', '+@all'],
  ['fzoff', 'reset', 'off', '>fzpw', '~*', '+@all'],
  ['fzro', 'reset', 'on', '>ro', 'nopass', '~fz:*', '+@read', '+ping', '+hello', '+auth'],
];

/** The command as a piece: multibulk, or (most of the time when it can be) an inline line. */
function render(random: Random, args: readonly string[], extra: Partial<Piece> = {}): Piece {
  if (random() < 0.35 && args.every((a) => a !== '' && a.length < 1000)) return { label: `inline ${args[0]}`, bytes: inline(random, args), ...extra };
  return { label: `mb ${args[0]}`, bytes: multibulk(args), ...extra };
}

const streamId = (random: Random): string => `${1 + int(random, 5)}-${int(random, 3)}`;

function streamCommand(random: Random): string[] {
  switch (int(random, 5)) {
    case 0: case 1: return ['XADD', 'fz:s', streamId(random), 'f', value(random)];
    case 2: return ['XLEN', 'fz:s'];
    case 3: return ['XRANGE', 'fz:s', '-', '+'];
    default: return pick(random, [['XDEL', 'fz:s', streamId(random)], ['XTRIM', 'fz:s', 'MAXLEN', '1']]);
  }
}

/** A command that gets exactly one reply whatever came before it (no MULTI: a TF* command would be queued). */
function oneReplyCommand(random: Random): string[] {
  for (;;) {
    const args = random() < 0.25 ? streamCommand(random) : command(random);
    const name = (args[0] ?? '').toUpperCase();
    if (!['MULTI', 'EXEC', 'DISCARD', 'QUIT', 'CLIENT'].includes(name)) return args;
  }
}

function tfCommand(random: Random): string[] {
  return pick(random, [
    ['TFCALL', 'fzlib.get', '1', pick(random, KEYS)],
    ['TFCALL', 'fzlib.get', '0'],
    ['TFCALLASYNC', 'fzlib.aget', '1', pick(random, KEYS)],
    ['TFCALL', 'fzlib.nosuch', '0'],
    ['TFCALL', 'nolib', '0'],
    ['TFCALL', 'fzlib.get'],
    ['TFCALL', 'fzlib.get', 'x'],
    ['TFCALL', 'fzlib.get', '1', 'other:x'],
    ['TFUNCTION', 'LIST'],
    ['TFUNCTION', 'LIST', 'LIBRARY', 'fzlib', 'WITHCODE', 'vvv'],
    ['TFUNCTION', 'LOAD', '#!js api_version=1.0 name=fzbad\nthis is not javascript'],
    ['TFUNCTION', 'LOAD', 'no prologue'],
    ['TFUNCTION', 'LOAD', 'REPLACE', FUZZ_LIBRARY],
    ['TFUNCTION', 'DELETE', 'nolib'],
    ['TFUNCTION'],
    ['TFUNCTION', 'NOSUCH'],
  ]);
}

function libraryCase(random: Random): FuzzCase {
  const count = 1 + int(random, 10);
  if (random() < 0.5) {
    const pieces = Array.from({ length: count }, () => (random() < 0.3 ? render(random, streamCommand(random)) : piece(random)));
    return { pieces, plan: randomPlan(random, length(pieces)) };
  }
  const pieces: Piece[] = Array.from({ length: count }, () =>
    random() < 0.4 ? { ...render(random, tfCommand(random)), uncompared: true } : render(random, oneReplyCommand(random)));
  // The connection must still be in step after the TF* commands: the last reply is an ECHO of its own.
  pieces.push(render(random, ['ECHO', `sync-${int(random, 1000)}`]));
  return { pieces, plan: randomPlan(random, length(pieces)), oneReplyEach: true };
}

function pubsubPiece(random: Random): Piece {
  const channel = () => pick(random, ['fz:c1', 'fz:c2']);
  const roll = int(random, 24);
  if (roll < 5) {
    const args = pick(random, [
      ['PUBLISH', channel(), value(random)], ['PUBLISH', 'fz:c1', 'm'], ['SPUBLISH', channel(), value(random)],
      ['SET', 'fz:a', value(random)], ['DEL', 'fz:a'], ['HSET', HASH, 'f', value(random)], ['PUBLISH', 'fz:none', 'x'],
    ]);
    return { ...render(random, args), conn: 1 };
  }
  if (roll < 8) return render(random, command(random));
  return render(random, pick(random, [
    ['HELLO', '3'], ['HELLO', '2'], ['HELLO', '3'],
    ['SUBSCRIBE', channel()], ['SUBSCRIBE', 'fz:c1', 'fz:c2'], ['SUBSCRIBE', '__keyspace@0__:fz:a'],
    ['PSUBSCRIBE', 'fz:c*'], ['PSUBSCRIBE', 'fz:?2'], ['PSUBSCRIBE', '__keyspace@0__:fz:*'], ['PSUBSCRIBE', '__keyevent@0__:set'],
    ['SSUBSCRIBE', channel()], ['SUNSUBSCRIBE'], ['SUNSUBSCRIBE', 'fz:c1'],
    ['UNSUBSCRIBE'], ['UNSUBSCRIBE', channel()], ['PUNSUBSCRIBE'], ['PUNSUBSCRIBE', 'fz:c*'],
    ['PUBLISH', channel(), value(random)], ['SPUBLISH', 'fz:c1', 'x'], ['PING'], ['PING', 'p'], ['GET', 'fz:a'],
    ['RESET'], ['QUIT'], ['SUBSCRIBE'], ['PSUBSCRIBE'], ['CLIENT', 'REPLY', pick(random, ['OFF', 'ON', 'SKIP'])],
  ]));
}

/**
 * Timeouts in seconds, for the blocking pops (XREAD BLOCK: ms). redis-server times a blocked client out when its
 * event loop next wakes, up to 1000/hz ms late (100 ms at hz 10) on an idle server, so a timeout within about
 * 100 ms of a push from the second connection (SWITCH_DELAY_MS apart) is served on one server and not the other:
 * the timeouts are far from the pushes, which come within a few times 25 ms of the block or not at all.
 */
const TIMEOUTS = ['0.4', '0.6'];

function blockingPiece(random: Random): Piece {
  const t = () => pick(random, TIMEOUTS);
  const roll = int(random, 20);
  if (roll < 6) {
    const args = pick(random, [
      ['RPUSH', 'fz:l', value(random) || 'v'], ['LPUSH', 'fz:m', 'w'], ['ZADD', 'fz:z', String(int(random, 3)), 'z'],
      ['XADD', 'fz:s', streamId(random), 'f', 'v'], ['DEL', 'fz:l'], ['RPUSH', 'fz:l', 'a', 'b'],
    ]);
    return { ...render(random, args), conn: 1 };
  }
  if (roll < 8) return render(random, command(random));
  return render(random, pick(random, [
    ['BLPOP', 'fz:l', t()], ['BRPOP', 'fz:l', 'fz:m', t()], ['BLMOVE', 'fz:l', 'fz:m', 'LEFT', 'RIGHT', t()],
    ['BLMPOP', t(), '2', 'fz:l', 'fz:m', 'LEFT'], ['BZPOPMIN', 'fz:z', t()], ['BRPOPLPUSH', 'fz:l', 'fz:m', t()],
    ['XREAD', 'BLOCK', String(Math.round(Number(t()) * 1000)), 'STREAMS', 'fz:s', '$'],
    ['XREAD', 'BLOCK', String(Math.round(Number(t()) * 1000)), 'STREAMS', 'fz:s', '0-0'],
    ['BLPOP', 'fz:l', '-1'], ['BLPOP', 'fz:l', 'x'], ['BLPOP', 'fz:l'], ['RPUSH', 'fz:l', 'x'], ['LRANGE', 'fz:l', '0', '-1'],
    ['MULTI'], ['EXEC'], ['PING'], ['HELLO', '3'], ['WAIT', '0', '50'],
  ]));
}

function authPiece(random: Random): Piece {
  if (random() < 0.3) return piece(random);
  return render(random, pick(random, [
    ['AUTH', 'fz', 'fzpw'], ['AUTH', 'fz', 'bad'], ['AUTH', 'fzpw'], ['AUTH', 'default', 'x'], ['AUTH', 'nouser', 'x'],
    ['AUTH', 'fzoff', 'fzpw'], ['AUTH', 'fzro', 'ro'], ['AUTH', 'fzro', 'anything'], ['AUTH'], ['AUTH', 'a', 'b', 'c'],
    ['HELLO', '3', 'AUTH', 'fz', 'fzpw'], ['HELLO', '2', 'AUTH', 'fz', 'bad'], ['HELLO', '3', 'AUTH', 'fz', 'fzpw', 'SETNAME', 'fzn'],
    ['HELLO', '3', 'AUTH', 'fz'], ['HELLO', 'AUTH', 'fz', 'fzpw'], ['HELLO', '2', 'SETNAME', 'a b'], ['HELLO', '3', 'AUTH', 'fzoff', 'fzpw'],
    ['ACL', 'WHOAMI'], ['CLIENT', 'GETNAME'], ['GET', 'fz:a'], ['SET', 'fz:a', 'v'], ['GET', 'other:x'], ['SET', 'other:x', 'v'],
    ['PUBLISH', 'fz:c1', 'x'], ['PING'], ['HSET', HASH, 'f', 'v'], ['DEL', 'other:x'], ['FLUSHDB'],
  ]));
}

function largePiece(random: Random): Piece {
  const mb = 1024 * 1024;
  const roll = int(random, 14);
  const big = (n: number) => 'x'.repeat(n);
  switch (roll) {
    case 0: return { label: 'mb SET big', bytes: multibulk(['SET', pick(random, KEYS), big((1 + int(random, 4)) * mb - int(random, 3))]) };
    case 1: return { label: 'mb ECHO big', bytes: multibulk(['ECHO', big(mb + int(random, 100))]) };
    case 2: {
      const fields = 1000 + int(random, 20_000);
      return { label: 'mb HSET many', bytes: multibulk(['HSET', HASH, ...Array.from({ length: fields * 2 }, (_, i) => `f${i >> 1}`)]) };
    }
    case 3: return { label: 'mb DEL many', bytes: multibulk(['DEL', ...Array.from({ length: 10_000 + int(random, 90_000) }, (_, i) => `fz:k${i}`)]) };
    case 4: return { label: 'mb MSET many', bytes: multibulk(['MSET', ...Array.from({ length: 2 * (1 + int(random, 5000)) }, (_, i) => (i % 2 === 0 ? `fz:m${i}` : 'v'))]) };
    case 5: case 6: {
      // An inline line around 64 KB (redis-server's PROTO_INLINE_MAX_SIZE), ended or not.
      const total = 64 * 1024 + int(random, 41) - 20;
      const end = pick(random, ['\r\n', '\n', '']);
      return { label: `inline ECHO ${total}`, bytes: Buffer.from(`ECHO ${big(total - 5 - end.length)}${end}`, 'latin1') };
    }
    case 7: return { label: 'inline ECHO 100k', bytes: Buffer.from(`ECHO ${big(100_000)}\r\n`, 'latin1') };
    case 8: return { label: 'bad multibulk big', bytes: Buffer.from(pick(random, ['*1\r\n$536870912\r\n', '*1\r\n$536870913\r\n', '*1048577\r\n', '*2147483647\r\n', `*1\r\n$${mb}\r\n${big(mb - 10)}`]), 'latin1') };
    case 9: return { label: 'mb GET', bytes: multibulk(['GET', pick(random, KEYS)]) };
    case 10: return { label: 'mb HLEN', bytes: multibulk(['HLEN', HASH]) };
    default: return piece(random);
  }
}

const length = (pieces: readonly Piece[]): number => pieces.reduce((n, p) => n + p.bytes.length, 0);

function casePieces(random: Random, next: (random: Random) => Piece, max: number): FuzzCase {
  const pieces = Array.from({ length: 1 + int(random, max) }, () => next(random));
  return { pieces, plan: randomPlan(random, length(pieces)) };
}

/** Case `index` of `seed` in `mode`: `basic` is generateCase's, unchanged. */
export function generateModeCase(mode: Mode, seed: number, index: number): FuzzCase {
  if (mode === 'basic') return generateCase(seed, index);
  const own = mode === 'mixed' ? MIXED[index % MIXED.length]! : mode;
  const random = seededRandom(Math.imul(seed, 1_000_003) ^ index ^ (MODES.indexOf(own) << 24));
  switch (own) {
    case 'library': return libraryCase(random);
    case 'pubsub': return casePieces(random, pubsubPiece, 12);
    // Up to 10 blocks of up to 600 ms one after another: the runtime has that long and HANG_MS more.
    case 'blocking': return { ...casePieces(random, blockingPiece, 10), quietMs: 800, hangMs: 8000 };
    case 'auth': return casePieces(random, authPiece, 10);
    default: return casePieces(random, largePiece, 5);
  }
}
