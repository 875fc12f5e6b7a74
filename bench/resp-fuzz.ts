/**
 * `node dist/bench/resp-fuzz.js --seed N --cases M`: differential fuzzing of the runtime's client protocol. Each
 * case (bench/resp-fuzz/generate.ts, deterministic by seed and index) is a request byte stream: valid multibulk
 * and inline commands, inline oddities, malformed multibulk, cut into several writes with small delays. It is sent
 * once on a fresh connection to a redis-server, and once on a fresh connection to a runtime in front of another
 * redis-server (all started here, on --port-base … +2; FLUSHALL on both before each case); the reply bytes and
 * whether the connection was closed must be the same. A divergence is confirmed by running it again, then
 * minimised (one write, then pieces dropped while it still diverges) and printed as a reproducer, with how many of
 * 3 more runs diverged (fewer than 3: timing, e.g. whether two writes arrived in one read, or a reset after a close). Also reported:
 * runtime crashes (it is started again), hangs (less than redis-server sent after 2 s) and the runtime's RSS. Cases
 * where one side only lost replies to a reset (lostToReset: the case wrote on after a close) are counted apart.
 * Exit code 1 when anything diverged. `--case I` runs case I alone and prints both sides. `--mode` picks the cases'
 * generator (bench/resp-fuzz/modes.ts: a library loaded, pub/sub, blocking commands, AUTH, large requests); `basic`,
 * the default, is the generator above with no library.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { exchange, lostToReset, normalized, sameOutcome, type ExchangeOptions, type Outcome } from './resp-fuzz/exchange.js';
import { multibulk, writesOf, type FuzzCase } from './resp-fuzz/generate.js';
import { FUZZ_LIBRARY, FUZZ_USERS, generateModeCase, MODES, withLibrary, type Mode } from './resp-fuzz/modes.js';
import { splitReplies } from './resp-fuzz/replies.js';
import type { CliProcess } from './support/cli-process.js';
import { startRedisServerProcess, type RedisServerProcess } from './support/redis-server-process.js';
import { startRuntimeProcess } from './support/runtime-cluster-processes.js';

function nonNegativeInt(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

const options = new Command('resp-fuzz')
  .option('--seed <n>', 'seed of the cases', nonNegativeInt('--seed'), 1)
  .option('--cases <n>', 'how many cases', nonNegativeInt('--cases'), 500)
  .option('--from <n>', 'index of the first case', nonNegativeInt('--from'), 0)
  .option('--case <n>', 'run this case alone and print both sides', nonNegativeInt('--case'))
  .option('--port-base <n>', 'redis-server on it, the runtime’s redis-server on +1, the runtime on +2', nonNegativeInt('--port-base'), 6580)
  .option('--out <file>', 'write the divergences found as JSON')
  .option('--mode <mode>', `the cases' generator: ${MODES.join(', ')}`, (text: string): Mode => {
    if (!(MODES as readonly string[]).includes(text)) throw new InvalidArgumentError(`--mode must be one of ${MODES.join(', ')}`);
    return text as Mode;
  }, 'basic' as Mode)
  .parse(process.argv)
  .opts<{ seed: number; cases: number; from: number; case?: number; portBase: number; out?: string; mode: Mode }>();

const show = (bytes: Buffer): string => { const text = JSON.stringify(bytes.toString('latin1')); return text.length > 600 ? `${text.slice(0, 300)}…(${text.length})…${text.slice(-300)}` : text; };
const clip = (text: string): string => (text.length > 600 ? `${text.slice(0, 300)}…(${text.length})…${text.slice(-300)}` : text);
const showOutcome = (o: Outcome): string => `${clip(JSON.stringify(normalized(o.bytes)))}${o.other.length > 0 ? ` other: ${clip(JSON.stringify(normalized(o.other)))}` : ''} ${o.closed ? `closed (${o.closedHow})` : 'open'}${o.hung ? ' HUNG' : ''}`;

const direct = await startRedisServerProcess({ port: options.portBase });
const behind = await startRedisServerProcess({ port: options.portBase + 1 });
const runtimePort = options.portBase + 2;
const crashes: string[] = [];

/** `args` on `port` over a connection of its own; its reply (the first chunk: short replies only). */
function call(port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('error', reject);
    socket.once('data', (reply) => {
      socket.destroy();
      resolve(reply.toString('latin1'));
    });
    socket.write(multibulk(args));
  });
}

async function expectOk(port: number, args: readonly string[]): Promise<void> {
  const reply = await call(port, args);
  if (reply !== '+OK\r\n') throw new Error(`${args[0]} on ${port}: ${JSON.stringify(reply)}`);
}

/** FLUSHALL on `port` over a connection of its own (through the runtime: the runtime sees it, as a client's). */
const flushAll = (port: number): Promise<void> => expectOk(port, ['FLUSHALL']);

/** The runtime, with the mode's library loaded. */
async function startRuntime(): Promise<CliProcess> {
  const started = await startRuntimeProcess(behind, runtimePort);
  if (withLibrary(options.mode)) {
    const reply = await call(runtimePort, ['TFUNCTION', 'LOAD', 'REPLACE', FUZZ_LIBRARY]);
    if (!reply.startsWith('+OK')) throw new Error(`TFUNCTION LOAD: ${JSON.stringify(reply)}`);
  }
  return started;
}

let runtime: CliProcess = await startRuntime();
// The same users on both servers (the auth mode's), and the keyspace notifications the runtime switched on on its
// server switched on on the plain one too, so that a subscriber to `__keyspace@0__:fz:*` gets the same on both.
for (const port of [direct.port, behind.port]) for (const user of FUZZ_USERS) await expectOk(port, ['ACL', 'SETUSER', ...user]);
const notify = (await call(behind.port, ['CONFIG', 'GET', 'notify-keyspace-events'])).split('\r\n').at(-2) ?? '';
await expectOk(direct.port, ['CONFIG', 'SET', 'notify-keyspace-events', notify]);

/**
 * An UNSUBSCRIBE (PUNSUBSCRIBE, SUNSUBSCRIBE) of every channel confirms them in the order of the server's dict,
 * whose hash seed is random per redis-server process: two servers differ there by themselves. A run of such
 * confirmations is compared with its names sorted (the counts stay where they are).
 */
function unsubscribeOrderless(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1');
  const frame = String.raw`[*>]3\r\n\$\d+\r\n([ps]?unsubscribe)\r\n\$\d+\r\n[^\r]*\r\n:\d+\r\n`;
  const sorted = text.replace(new RegExp(`(?:${frame}){2,}`, 'g'), (run) => {
    const frames = [...run.matchAll(/([*>])3\r\n\$(\d+)\r\n([ps]?unsubscribe)\r\n\$\d+\r\n([^\r]*)\r\n:(\d+)\r\n/g)];
    const names = frames.map((f) => f[4]!).sort();
    return frames.map((f, i) => `${f[1]}3\r\n$${f[2]}\r\n${f[3]}\r\n$${names[i]!.length}\r\n${names[i]}\r\n:${f[5]}\r\n`).join('');
  });
  return Buffer.from(sorted, 'latin1');
}

/** How the exchange waits for the runtime: for cases matched reply by reply, by replies rather than bytes. */
function exchangeOptions(fuzzCase: FuzzCase): ExchangeOptions {
  return {
    ...(fuzzCase.quietMs === undefined ? {} : { quietMs: fuzzCase.quietMs }),
    ...(fuzzCase.hangMs === undefined ? {} : { hangMs: fuzzCase.hangMs }),
    ...(fuzzCase.oneReplyEach === true ? { owed: (received: Buffer, expected: Outcome) => splitReplies(received).replies.length < splitReplies(expected.bytes).replies.length } : {}),
  };
}

/**
 * What is compared of an outcome: the reply bytes (normalized), or, for a case matched reply by reply, each reply
 * but those of TF* pieces (the runtime's own commands), which stand as `<TF>` whatever they are.
 */
function comparable(fuzzCase: FuzzCase, outcome: Outcome): Outcome {
  if (fuzzCase.oneReplyEach !== true) return { ...outcome, bytes: unsubscribeOrderless(outcome.bytes) };
  const main = fuzzCase.pieces.filter((p) => (p.conn ?? 0) === 0);
  const { replies, rest } = splitReplies(outcome.bytes);
  const kept = replies.map((reply, i) => (main[i]?.uncompared === true ? Buffer.from('<TF>') : reply));
  return { ...outcome, bytes: Buffer.concat([...kept, rest]) };
}

/** The case on both sides, from a flushed state; the runtime started again if the case killed it. */
async function runBoth(fuzzCase: FuzzCase): Promise<{ direct: Outcome; proxied: Outcome }> {
  await flushAll(direct.port);
  await flushAll(runtimePort);
  const writes = writesOf(fuzzCase);
  const directOutcome = await exchange(direct.port, writes, undefined, exchangeOptions(fuzzCase));
  const proxied = await exchange(runtimePort, writes, directOutcome, exchangeOptions(fuzzCase));
  if (!runtime.isRunning()) {
    crashes.push(`${show(Buffer.concat(fuzzCase.pieces.map((p) => p.bytes)).subarray(0, 2000))}: ${runtime.tail()}`);
    runtime = await startRuntime();
  }
  return { direct: comparable(fuzzCase, directOutcome), proxied: comparable(fuzzCase, proxied) };
}

/** Not the same, and not only replies lost to a reset (lostToReset: timing, counted apart). */
function differ(d: Outcome, p: Outcome): boolean {
  return !sameOutcome(d, p) && !lostToReset(d, p);
}

async function diverges(fuzzCase: FuzzCase): Promise<boolean> {
  const { direct: d, proxied: p } = await runBoth(fuzzCase);
  return differ(d, p);
}

/** Drops piece `index`, and the cuts inside it; cuts after it move back by its length. */
function withoutPiece(fuzzCase: FuzzCase, index: number): FuzzCase {
  const start = fuzzCase.pieces.slice(0, index).reduce((n, p) => n + p.bytes.length, 0);
  const length = fuzzCase.pieces[index]!.bytes.length;
  const cuts: number[] = [];
  const delaysMs = [fuzzCase.plan.delaysMs[0] ?? 0];
  fuzzCase.plan.cuts.forEach((cut, i) => {
    if (cut > start && cut < start + length) return;
    cuts.push(cut >= start + length ? cut - length : cut);
    delaysMs.push(fuzzCase.plan.delaysMs[i + 1] ?? 0);
  });
  return { ...fuzzCase, pieces: fuzzCase.pieces.filter((_, i) => i !== index), plan: { cuts, delaysMs } };
}

/** The smallest case found that still diverges: one write if that diverges too, then as few pieces as possible. */
async function minimize(fuzzCase: FuzzCase): Promise<FuzzCase> {
  let best = fuzzCase;
  const oneWrite = { ...best, plan: { cuts: [], delaysMs: [0] } };
  if (await diverges(oneWrite)) best = oneWrite;
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < best.pieces.length && best.pieces.length > 1; i++) {
      const smaller = withoutPiece(best, i);
      if (await diverges(smaller)) {
        best = smaller;
        changed = true;
        i--;
      }
    }
  }
  return best;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

interface Divergence {
  readonly index: number;
  readonly stream: string;
  readonly plan: FuzzCase['plan'];
  readonly mode: Mode;
  readonly labels: string[];
  readonly direct: string;
  readonly proxied: string;
  readonly reproduced: string;
}

try {
  if (options.case !== undefined) {
    const fuzzCase = generateModeCase(options.mode, options.seed, options.case);
    const { direct: d, proxied: p } = await runBoth(fuzzCase);
    console.log(`pieces: ${fuzzCase.pieces.map((piece) => `${piece.label} ${show(piece.bytes)}`).join(' | ')}`);
    console.log(`writes: ${writesOf(fuzzCase).map((w) => `${w.conn === 1 ? '[conn 1] ' : ''}+${w.delayMs}ms ${show(w.bytes)}`).join(' ')}`);
    console.log(`redis-server: ${showOutcome(d)}\nruntime:      ${showOutcome(p)}\n${sameOutcome(d, p) ? 'same' : lostToReset(d, p) ? 'replies lost to a reset (timing)' : 'DIVERGES'}`);
  } else {
    const divergences: Divergence[] = [];
    const seen = new Set<string>();
    const rss = [rssMb(runtime.pid)];
    let hangs = 0;
    let resets = 0;
    const startedAt = performance.now();
    for (let index = options.from; index < options.from + options.cases; index++) {
      const fuzzCase = generateModeCase(options.mode, options.seed, index);
      const first = await runBoth(fuzzCase);
      if (first.proxied.hung) hangs++;
      if ((index - options.from) % 100 === 99) {
        rss.push(rssMb(runtime.pid));
        console.log(`${index + 1 - options.from} cases, ${divergences.length} divergences, ${hangs} hangs, runtime RSS ${rss.at(-1)} MB, ${Math.round((performance.now() - startedAt) / 1000)} s`);
      }
      if (lostToReset(first.direct, first.proxied)) resets++;
      if (!differ(first.direct, first.proxied) || !(await diverges(fuzzCase))) continue;
      const small = await minimize(fuzzCase);
      const stream = Buffer.concat(small.pieces.map((p) => (p.conn === 1 ? Buffer.concat([Buffer.from('[conn 1: '), p.bytes, Buffer.from(']')]) : p.bytes)));
      const key = `${show(stream)} ${small.plan.cuts.join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // Run 3 times more: shown is a run that diverged (a timing-dependent one may not every time).
      let again = await runBoth(small);
      let reproduced = differ(again.direct, again.proxied) ? 1 : 0;
      for (let i = 0; i < 2; i++) {
        const run = await runBoth(small);
        if (!differ(run.direct, run.proxied)) continue;
        reproduced++;
        again = run;
      }
      const found: Divergence = {
        index,
        stream: stream.length > 4000 ? `${stream.toString('latin1', 0, 2000)}…(${stream.length} bytes)` : stream.toString('latin1'),
        plan: small.plan,
        mode: options.mode,
        labels: small.pieces.map((p) => p.label),
        direct: showOutcome(again.direct),
        proxied: showOutcome(again.proxied),
        reproduced: `${reproduced}/3`,
      };
      divergences.push(found);
      console.log(`DIVERGENCE case ${index} (minimised, ${found.reproduced}): ${show(stream)} cuts [${small.plan.cuts.join(',')}]\n  redis-server: ${found.direct}\n  runtime:      ${found.proxied}`);
    }
    rss.push(rssMb(runtime.pid));
    console.log(`mode ${options.mode}, seed ${options.seed}, cases ${options.from}..${options.from + options.cases - 1}: ${divergences.length} distinct divergences, ${hangs} hangs, ${resets} with replies lost to a reset (timing), ${crashes.length} runtime crashes, runtime RSS ${rss[0]} → ${rss.at(-1)} MB (max ${Math.max(...rss)}), ${Math.round((performance.now() - startedAt) / 1000)} s`);
    for (const crash of crashes) console.log(`CRASH after ${crash}`);
    if (options.out) writeFileSync(options.out, JSON.stringify({ seed: options.seed, divergences, crashes }, null, 2));
    process.exitCode = divergences.length > 0 || crashes.length > 0 ? 1 : 0;
  }
} finally {
  await runtime.stop();
  await behind.close();
  await direct.close();
}
