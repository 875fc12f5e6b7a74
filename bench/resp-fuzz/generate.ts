/**
 * The request streams of the differential fuzz (bench/resp-fuzz.ts), deterministic by seed: each case is a list
 * of pieces (one command, or one malformed fragment), their bytes concatenated, cut at random byte boundaries into
 * writes with small delays between them. Pieces, not just bytes, so that a divergence can be minimised piece by
 * piece into a small reproducer.
 */

/** One piece of a case: its bytes, and a short label for reports. */
export interface Piece {
  readonly label: string;
  readonly bytes: Buffer;
  /** 1: sent on the case's second connection (a publisher, a pusher that serves a blocked pop); 0 by default. */
  readonly conn?: 0 | 1;
  /** A TF* command: only the runtime has it, so its one reply is left out of the comparison (bench/resp-fuzz/modes.ts). */
  readonly uncompared?: boolean;
}

/** The stream cut into writes: `cuts` are byte offsets into the concatenated pieces, `delaysMs` one per write. */
export interface WritePlan {
  readonly cuts: readonly number[];
  readonly delaysMs: readonly number[];
}

export interface FuzzCase {
  readonly pieces: readonly Piece[];
  readonly plan: WritePlan;
  /** How long the connection must be quiet before the case is over (blocking commands' timeouts); QUIET_MS by default. */
  readonly quietMs?: number;
  /** How long the runtime may take after the last write (blocking commands one after another); HANG_MS by default. */
  readonly hangMs?: number;
  /** Every piece gets exactly one reply (no CLIENT REPLY, MULTI, QUIT, malformed bytes): replies can be matched to pieces. */
  readonly oneReplyEach?: boolean;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export type Random = () => number;
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (random: Random, n: number): number => Math.floor(random() * n);
export const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;

/** Keys the cases use: no trigger watches them, and FLUSHALL between cases clears them. */
export const KEYS = ['fz:a', 'fz:b', 'fz:n'];
export const HASH = 'fz:h';

/** A short value: printable, or with the bytes inline parsing cares about (spaces, quotes, CR, LF, NUL, backslash). */
export function value(random: Random): string {
  const alphabet = random() < 0.6 ? 'abcxyz019' : 'ab \t"\'\\\r\n\0x';
  let out = '';
  for (let i = int(random, 7); i > 0; i--) out += alphabet[int(random, alphabet.length)];
  return out;
}

/** A well-formed command (as arguments); some of them errors the server answers (unknown, wrong arity). */
export function command(random: Random): string[] {
  switch (int(random, 22)) {
    case 0: return ['PING'];
    case 1: return ['PING', value(random)];
    case 2: return ['ECHO', value(random)];
    case 3: return ['SET', pick(random, KEYS), value(random)];
    case 4: return ['GET', pick(random, KEYS)];
    case 5: return ['HSET', HASH, value(random) || 'f', value(random)];
    case 6: return ['HGETALL', HASH];
    case 7: return ['INCR', 'fz:n'];
    case 8: return ['MULTI'];
    case 9: return ['EXEC'];
    case 10: return ['DISCARD'];
    case 11: return ['CLIENT', 'REPLY', pick(random, ['OFF', 'ON', 'SKIP', 'on', 'skip'])];
    case 12: return ['CLIENT', 'REPLY', pick(random, ['OFF', 'ON', 'SKIP'])];
    case 13: return ['HELLO', pick(random, ['2', '3', '4'])];
    case 14: return ['SELECT', pick(random, ['0', '1', '2', '99', 'x'])];
    case 15: return ['QUIT'];
    case 16: return ['GET'];
    case 17: return [pick(random, ['NOSUCHCMD', 'get', 'Ping', ''])];
    case 18: return ['DEL', ...KEYS];
    case 19: return ['ECHO', value(random), value(random)];
    case 20: return ['CLIENT', 'REPLY'];
    default: return ['SET', pick(random, KEYS), value(random), pick(random, ['NX', 'XX', 'GET', 'EX', 'PX'])];
  }
}

export function multibulk(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg, 'latin1')}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''), 'latin1');
}

/** The command as an inline line: words quoted or not, separated by spaces or tabs, ended by LF or CRLF. */
export function inline(random: Random, args: readonly string[]): Buffer {
  const words = args.map((arg) => {
    const plain = /^[^\s"'\\\0]+$/.test(arg);
    const style = plain ? int(random, 4) : 1 + int(random, 2);
    if (style === 1) return `"${[...arg].map((c) => (c === '"' || c === '\\' ? `\\${c}` : c === '\r' ? '\\r' : c === '\n' ? '\\n' : c === '\0' ? '\\x00' : c === 'a' && random() < 0.3 ? '\\x61' : c)).join('')}"`;
    if (style === 2 && !/[\r\n\0]/.test(arg)) return `'${arg.replace(/'/g, "\\'")}'`;
    if (style === 2) return `"${arg.replace(/[\\"]/g, '\\$&').replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\0/g, '\\x00')}"`;
    return arg;
  });
  const separator = () => pick(random, [' ', ' ', '  ', '\t']);
  const lead = random() < 0.1 ? separator() : '';
  return Buffer.from(lead + words.join(separator()) + pick(random, ['\r\n', '\r\n', '\n', ' \r\n']), 'latin1');
}

/** Inline oddities: blank lines, a CR without LF, a stray quote, tabs, NUL, an escape at the end of a line. */
const ODD_INLINE: readonly string[] = [
  '\r\n', '\n', '   \n', '\t\r\n', 'PING\rPING\r\n', 'PING\r\r\n', 'ECHO "a\\"\r\n', 'ECHO \'a\\\'b\'\r\n', 'ECHO "x"y\r\n',
  'ECHO "unclosed\r\n', "ECHO 'unclosed\r\n", 'ECHO "\\x4\r\n', 'ECHO "\\xZZ"\r\n', 'ECHO a\0b\r\n', 'ECHO "a\\\r\n',
  'PING\n\n', '\r\r\n', 'ECHO ""\r\n', "ECHO ''\r\n", 'ECHO "a" "b"\r\n', '"PING"\r\n', ' \r\n', 'ECHO \\x41\r\n',
];

/** Malformed multibulk: bad counts and lengths, lengths that lie, a missing `$`, a CR not followed by LF. */
const BAD_MULTIBULK: readonly string[] = [
  '*0\r\n', '*-1\r\n', '*-10\r\n', '*1\r\n$0\r\n\r\n', '*abc\r\n', '*\r\n', '*+1\r\n$4\r\nPING\r\n', '*01\r\n$4\r\nPING\r\n',
  '*1\r\n$-1\r\n', '*1\r\n$01\r\n', '*1\r\n$\r\n', '*1\r\nPING\r\n', '*1\r\n$3\r\nPING\r\n', '*1\r\n$5\r\nPING\r\n',
  '*1\r\n$4\r\nPINGxx', '*1\n$4\r\nPING\r\n', '*1\r$4\r\nPING\r\n', '*2\r\n$4\r\nECHO\r\n', '*3000000000\r\n',
  '*2147483648\r\n', '*1\r\n$2147483648\r\n', '*1\r\n$4\nPING\r\n', '*1 \r\n$4\r\nPING\r\n', '*-0\r\n', '*1\r\n$-0\r\n',
  '*1\r\n$4\r\nPING', '*1\r\n$4\r\nPING\r', '*1\r\n$ 4\r\nPING\r\n', '*1\r\n\r\n', '*\n', '*1\r\n$4\r\n\r\n\r\n\r\n',
];

export function piece(random: Random): Piece {
  const roll = random();
  if (roll < 0.55) {
    const args = command(random);
    return { label: `mb ${args[0]}`, bytes: multibulk(args) };
  }
  if (roll < 0.8) {
    const args = command(random).filter((arg) => arg !== '');
    if (args.length === 0) return piece(random);
    return { label: `inline ${args[0]}`, bytes: inline(random, args) };
  }
  if (roll < 0.9) return { label: 'odd inline', bytes: Buffer.from(pick(random, ODD_INLINE), 'latin1') };
  return { label: 'bad multibulk', bytes: Buffer.from(pick(random, BAD_MULTIBULK), 'latin1') };
}

/** Case `index` of `seed`: the same pieces and writes on every run. */
export function generateCase(seed: number, index: number): FuzzCase {
  const random = seededRandom(Math.imul(seed, 1_000_003) ^ index);
  const pieces = Array.from({ length: 1 + int(random, 10) }, () => piece(random));
  return { pieces, plan: randomPlan(random, pieces.reduce((n, p) => n + p.bytes.length, 0)) };
}

/** 1 to 6 writes, cut anywhere (inside a CRLF, a length, a bulk), 0-12 ms apart. */
export function randomPlan(random: Random, length: number): WritePlan {
  const cuts = new Set<number>();
  for (let i = int(random, 6); i > 0 && length > 1; i--) cuts.add(1 + int(random, length - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  return { cuts: sorted, delaysMs: [0, ...sorted.map(() => int(random, 13))] };
}

/** One write of a case: its bytes, the delay before it, and the connection it goes on. */
export interface Write {
  readonly bytes: Buffer;
  readonly delayMs: number;
  readonly conn: 0 | 1;
}

/** A write on the other connection than the one before waits this long, so that what the first sent has been served. */
export const SWITCH_DELAY_MS = 25;

/**
 * The stream's writes. Where consecutive pieces go on different connections the stream is cut there too, and the
 * write waits SWITCH_DELAY_MS; a cut inside a piece of the second connection is ignored (it sends whole pieces).
 */
export function writesOf(fuzzCase: FuzzCase): Write[] {
  const stream = Buffer.concat(fuzzCase.pieces.map((p) => p.bytes));
  const connAt: { start: number; end: number; conn: 0 | 1 }[] = [];
  let offset = 0;
  for (const p of fuzzCase.pieces) {
    connAt.push({ start: offset, end: offset + p.bytes.length, conn: p.conn ?? 0 });
    offset += p.bytes.length;
  }
  const connOf = (at: number) => connAt.find((r) => at >= r.start && at < r.end)?.conn ?? 0;
  const delays = new Map<number, number>();
  fuzzCase.plan.cuts.forEach((cut, i) => delays.set(cut, fuzzCase.plan.delaysMs[i + 1] ?? 0));
  const bounds = new Set([0, stream.length]);
  for (const cut of fuzzCase.plan.cuts) if (cut > 0 && cut < stream.length && connOf(cut) === 0) bounds.add(cut);
  for (let i = 1; i < connAt.length; i++) if (connAt[i]!.conn !== connAt[i - 1]!.conn || connAt[i]!.conn === 1) bounds.add(connAt[i]!.start);
  const sorted = [...bounds].sort((a, b) => a - b);
  const writes: Write[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const [start, end] = [sorted[i]!, sorted[i + 1]!];
    if (start === end) continue;
    const conn = connOf(start);
    const switched = i > 0 && conn !== connOf(sorted[i - 1]!);
    const planned = i === 0 ? (fuzzCase.plan.delaysMs[0] ?? 0) : (delays.get(start) ?? 0);
    writes.push({ bytes: stream.subarray(start, end), delayMs: switched || conn === 1 ? Math.max(planned, SWITCH_DELAY_MS) : planned, conn });
  }
  return writes;
}
