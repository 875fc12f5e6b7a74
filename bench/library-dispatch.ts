/**
 * `node dist/bench/library-dispatch.js [--changes 30000] [--rounds 5]`: what the library's own isolate costs per
 * captured change, without Redis. The built library (dist/writebehind.js, config/example.json) runs in a
 * GuestLink as the runtime runs it; each change is the two entries a captured HSET makes: the capture trigger
 * on `person:<n>` (its HMGET and XADD answered from canned replies) and the batcher's stream trigger handed the
 * record that XADD appended. Beside it, the same number of entries that do nothing in the guest (a reply to a
 * call nobody waits for): what crossing into the isolate and back costs by itself. Medians (min–max) of
 * `--rounds` rounds, wall and CPU time per change; the runtime's CPU per captured HSET
 * (scripts/captured-hset-cpu.sh) is the figure to set them against (docs/runtime.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIBRARY_SOURCE } from '../src/generated/library-source.js';
import { Kind, Op, Phase, type GuestBytes, type Registration } from '../src/runtime/library-host/guest/protocol.js';
import { GuestLink, PENDING, type Outcome } from '../src/runtime/library-host/guest-link.js';
import { repoRoot } from './support/repo-root.js';
import { summarize, type Summary } from './support/stats.js';

const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return (at >= 0 ? Number(process.argv[at + 1]) : fallback) || fallback;
};
const changes = option('--changes', 30_000);
const rounds = option('--rounds', 5);
const config = JSON.stringify(JSON.parse(readFileSync(join(repoRoot(), 'config/example.json'), 'utf8')));

const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
const latin1 = (value: string | ArrayBuffer) => (typeof value === 'string' ? value : Buffer.from(value).toString('latin1'));

/** Answers the library's calls as an empty redis-server would; keeps the last XADD's record for the stream trigger. */
class CannedRedis {
  appended: { key: string; fields: GuestBytes[] } | null = null;
  #nextId = 0;
  #nextClient = 1;

  call(argv: (string | ArrayBuffer)[]): GuestBytes {
    const args = argv.map(latin1);
    switch (args[0]!.toUpperCase()) {
      case 'HMGET':
        return `*${args.length - 2}\r\n${args.slice(2).map((field) => (field === 'first_name' ? bulk('x') : '_\r\n')).join('')}`;
      case 'XADD': {
        const id = args[2]!.toUpperCase() === 'NOMKSTREAM' ? 3 : 2;
        this.appended = { key: args[1]!, fields: args.slice(id + 1) };
        return bulk(`1700000000000-${this.#nextId++}`);
      }
      case 'MOVE': // the library's database probe: it is in database 0
        return args[2] === '0' ? '-ERR source and destination objects are the same\r\n' : ':0\r\n';
      case 'INFO':
        return bulk('# Cluster\r\ncluster_enabled:0\r\n');
      case 'XRANGE':
        return '*0\r\n';
      case 'HSET':
      case 'HDEL':
        return ':1\r\n';
      default:
        return '_\r\n';
    }
  }

  openClient(): number {
    return this.#nextClient++;
  }
}

function expectDone(outcome: Outcome | typeof PENDING, what: string): void {
  if (outcome === PENDING || !outcome.ok) throw new Error(`${what} failed: ${outcome === PENDING ? 'it did not finish' : outcome.error}`);
}

function measure(run: (i: number) => void): { wall: number; cpu: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < changes; i++) run(i);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall: (wall * 1000) / changes, cpu: (cpu.user + cpu.system) / changes };
}

const redis = new CannedRedis();
const link = new GuestLink({
  timeoutMs: 500,
  memoryLimitMb: 200,
  channel: {
    call: (_clientId, argv) => redis.call(argv),
    callAsync: () => 'not in this bench',
    schedule: () => undefined,
    openClient: () => redis.openClient(),
    closeClient: () => undefined,
    log: () => undefined,
  },
  onUnhandledRejection: (reason) => console.error(`unhandled rejection: ${reason}`),
});
link.compile(LIBRARY_SOURCE, 'WriteBehind.js');
expectDone(link.invoke(Op.LOAD, config, {}, process.versions.v8), 'the load');
const loaded = link.invoke(Op.LOADED);
expectDone(loaded, 'the load');
const registrations = (loaded as { value: unknown }).value as Registration[];
const capture = registrations.find((r) => r[0] === Kind.KEYSPACE_TRIGGER && r[6] === 'person:');
const batcher = registrations.find((r) => r[0] === Kind.STREAM_TRIGGER);
if (!capture || !batcher) throw new Error('the library registered no person: capture trigger or no stream trigger');

const capturedChange = (i: number) => {
  expectDone(link.invoke(Op.KEYSPACE, capture[2], Phase.CALLBACK, redis.openClient(), i, 'hset', `person:${i % 100_000}`, 0), 'the capture trigger');
  const record = redis.appended!;
  expectDone(link.invoke(Op.STREAM, batcher[2], redis.openClient(), record.key, `1700000000000-${i}`, record.fields, 0), 'the stream trigger');
};
// Two entries that run nothing: replies to calls no promise waits for.
const emptyEntries = () => {
  link.invoke(Op.CALL_REPLY, -1, '_\r\n');
  link.invoke(Op.CALL_REPLY, -1, '_\r\n');
};

measure(capturedChange); // warm-up: the JIT, and the batcher's first read of its stream
const samples = { change: { wall: [] as number[], cpu: [] as number[] }, empty: { wall: [] as number[], cpu: [] as number[] } };
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of [['change', capturedChange], ['empty', emptyEntries]] as const) {
    const { wall, cpu } = measure(run);
    samples[name].wall.push(wall);
    samples[name].cpu.push(cpu);
  }
}
link.dispose();

const show = (s: Summary) => `${s.median.toFixed(1)} µs (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
console.log(`${changes} captured changes per round, ${rounds} rounds, medians (min–max) per change:`);
console.log(`  capture trigger + stream trigger: wall ${show(summarize(samples.change.wall))}, CPU ${show(summarize(samples.change.cpu))}`);
console.log(`  two entries that run nothing:     wall ${show(summarize(samples.empty.wall))}, CPU ${show(summarize(samples.empty.cpu))}`);
