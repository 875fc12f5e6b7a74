/**
 * (h) READING A CAPTURE BACKLOG, NOTHING WRITTEN: N capture records (the library's format, written straight into
 * a stream of a redis-server of its own) read back and parsed into records by the worker's hot-path reader
 * (`RedisStreamClient.rangeRecords`: XRANGE pages of 1000 on a plain RESP connection, parsed from the reply's
 * bytes), one page after another. The figure includes redis-server's own work for the XRANGEs: it is what a
 * record costs the drain before MySQL. Beside the rate, the CPU it took per record, in this process and in
 * redis-server (INFO cpu): on a shared machine the rate moves with the neighbours' load, the CPU cost hardly.
 */
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import type { RedisStreamClient } from '../../src/worker/redis/redis-stream-client.js';
import { connectRedis, type NodeRedisClient } from '../../src/shared/redis-connect.js';
import { summarize } from '../support/stats.js';
import { withStreamBacklog } from '../support/stream-backlog.js';

const STREAM = 'bench:changes';
const PAGE = 1000;
const ROUNDS_PER_REP = 3;

export const captureReadScenario: Scenario = {
  id: 'read',
  title: '(h) reading a capture backlog: XRANGE + parse, nothing written',
  async run({ scale }: ScenarioContext): Promise<ScenarioResult> {
    const samples: number[] = [];
    const workerCpu: number[] = [];
    const serverCpu: number[] = [];
    await withStreamBacklog(STREAM, scale.rows, 'read', async (client, redis) => {
      const info = await connectRedis(redis.url);
      try {
        await readAll(client, scale.rows); // warm-up: JIT, the connection
        for (let rep = 0; rep < scale.reps * ROUNDS_PER_REP; rep++) {
          const serverBefore = await serverCpuSeconds(info);
          const cpuBefore = process.cpuUsage();
          const started = performance.now();
          await readAll(client, scale.rows);
          const elapsed = (performance.now() - started) / 1000;
          const cpu = process.cpuUsage(cpuBefore);
          const server = (await serverCpuSeconds(info)) - serverBefore;
          samples.push(scale.rows / elapsed);
          workerCpu.push((cpu.user + cpu.system) / scale.rows);
          serverCpu.push((server * 1e6) / scale.rows);
        }
      } finally {
        await info.close();
      }
    });
    const median = summarize(samples).median;
    return {
      id: this.id,
      title: this.title,
      figures: [
        { id: 'read.recordsPerSecond', label: 'records/s read and parsed', unit: 'records/s', summary: summarize(samples), origin: 'redis-server' },
        { id: 'read.workerCpuMicros', label: 'CPU per record, reader process', unit: 'µs', summary: summarize(workerCpu), origin: 'redis-server' },
        { id: 'read.serverCpuMicros', label: 'CPU per record, redis-server', unit: 'µs', summary: summarize(serverCpu), origin: 'redis-server' },
      ],
      notes: [`${scale.rows} capture records (record format 2: one v2 field each) in a redis-server of its own, read in XRANGE pages of ${PAGE} one after another, ${ROUNDS_PER_REP} reads per repetition after a warm-up; median ${(1e6 / median).toFixed(2)} µs of wall time per record, redis-server included`],
    };
  },
};

async function readAll(client: RedisStreamClient, expected: number): Promise<void> {
  let after = '0-0';
  let read = 0;
  for (;;) {
    const page = await client.rangeRecords(STREAM, after, '+', PAGE);
    read += page.records.length;
    if (page.entries < PAGE) break;
    after = page.lastId!;
  }
  if (read !== expected) throw new Error(`read ${read} capture records, expected ${expected}`);
}

/** redis-server's CPU seconds so far (INFO cpu: user + system, every thread). */
async function serverCpuSeconds(client: NodeRedisClient): Promise<number> {
  const text = await client.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}
