/**
 * (i) BACKFILL AND VERIFY: 50k (--quick: 20k) hashes written straight to the redis-server with its keyspace
 * notifications off (so nothing captures them: data that existed before the library), one worker running.
 * Per repetition: MySQL emptied, `writebehind backfill --restart` run as a process; the figures are the
 * backfill's own rate (keys captured per second, CLI start to exit) and the rate at which the rows reach MySQL
 * (CLI start to the last row), to set against the drain rate of (c). Then `writebehind verify` over the same
 * data: hashes (and rows) compared per second. Last, live-write latency: HSET round trips of a probe client
 * (20/s, on other keys) with no backfill, during a backfill at --rate (a quarter of the unlimited rate) and
 * during an unlimited one.
 */
import type { RedisClientType } from 'redis';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { benchConfig, BENCH_WRITER } from '../support/bench-config.js';
import { startCliProcess } from '../support/cli-process.js';
import { personHashFields, PERSONS_TABLE } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { startProgress } from '../support/progress.js';
import { sleep } from '../support/sleep.js';
import { percentile, sortNumbers, summarize } from '../support/stats.js';

const KEYS = { full: 50_000, quick: 20_000 };
const PROBE_INTERVAL_MS = 50;

interface BackfillSample {
  readonly captureKeysPerSecond: number;
  readonly rowsPerSecond: number;
}

export const backfillScenario: Scenario = {
  id: 'backfill',
  title: '(i) backfill of existing hashes, and verify',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const total = scale.quick ? KEYS.quick : KEYS.full;
    await resetPersons(db);
    // writeUncaptured switches the notify flags off for seconds: the runtime must not set them back meanwhile.
    const pipeline = await startPipeline({ config: benchConfig(), mysqlUrl: db.url, settingsCheckMs: 0 });
    const samples: BackfillSample[] = [];
    const verifyRates: number[] = [];
    const latency: Record<string, number[]> = {};
    let limitedRate = 0;
    try {
      const direct = await pipeline.connectDirect();
      await writeUncaptured(direct, total);
      const worker = pipeline.startWorker({ consumer: 'backfill-bench' });
      const probe = await pipeline.connect();
      const rowCount = async () => Number(((await db.admin.query(`SELECT COUNT(*) AS n FROM ${PERSONS_TABLE} WHERE person_id <= ?`, [total]))[0] as Array<{ n: number }>)[0]!.n);

      latency['none'] = await probeWhile(probe, sleep(5_000));
      for (let rep = 1; rep <= scale.reps; rep++) {
        await db.query(`DELETE FROM ${PERSONS_TABLE}`);
        const progress = startProgress(`backfill rep ${rep}/${scale.reps}`, 'rows');
        const started = performance.now();
        const cli = startCliProcess(backfillArgs(pipeline, []));
        const probing = probeWhile(probe, cli.exited);
        const exit = await cli.exited;
        const captureMs = performance.now() - started;
        if (exit !== 0) throw new Error(`backfill exited ${exit}:\n${cli.tail()}`);
        if (rep === 1) latency['unlimited'] = await probing;
        else await probing;
        let rows = 0;
        while ((rows = await rowCount()) < total) {
          if (!worker.isRunning()) throw new Error(`the worker exited:\n${worker.tail()}`);
          progress.update(rows, total);
          await sleep(20);
        }
        progress.update(rows, total);
        samples.push({ captureKeysPerSecond: total / (captureMs / 1000), rowsPerSecond: total / ((performance.now() - started) / 1000) });

        const verifyStarted = performance.now();
        const verify = startCliProcess(['verify', '--writer', BENCH_WRITER, '--redis', pipeline.runtimeUrl, '--mysql', db.url, '--config', pipeline.configFile]);
        const verifyExit = await verify.exited;
        if (verifyExit !== 0) throw new Error(`verify exited ${verifyExit}:\n${verify.tail()}`);
        verifyRates.push(total / ((performance.now() - verifyStarted) / 1000));
      }
      // A rate-limited backfill (images of rows already there: the worker rewrites them) while the probe writes.
      limitedRate = Math.max(100, Math.round(summarize(samples.map((s) => s.captureKeysPerSecond)).median / 4));
      const limited = startCliProcess(backfillArgs(pipeline, ['--rate', String(limitedRate)]));
      const limitedProbe = probeWhile(probe, sleep(Math.min(15_000, (total / limitedRate) * 1000)));
      latency['limited'] = await limitedProbe;
      await limited.stop();
    } finally {
      await pipeline.close();
    }
    const pct = (name: string, p: number) => percentile(sortNumbers([...(latency[name] ?? [])]), p);
    const latencyFigure = (name: string, p: number, label: string) => ({ id: `backfill.hsetLatency.${name}.p${p}`, label, unit: 'ms', summary: summarize([pct(name, p)]), origin: 'local-runtime' as const });
    return {
      id: this.id,
      title: this.title,
      figures: [
        { id: 'backfill.capture.keysPerSecond', label: 'backfill: keys captured/s (CLI start to exit)', unit: 'keys/s', summary: summarize(samples.map((s) => s.captureKeysPerSecond)), origin: 'local-runtime' },
        { id: 'backfill.rowsPerSecond', label: 'backfill: rows in MySQL/s (CLI start to last row)', unit: 'rows/s', summary: summarize(samples.map((s) => s.rowsPerSecond)), origin: 'local-runtime' },
        { id: 'verify.keysPerSecond', label: 'verify: hashes compared/s (each hash and each row once)', unit: 'keys/s', summary: summarize(verifyRates), origin: 'local-runtime' },
        latencyFigure('none', 50, 'HSET latency p50, no backfill'),
        latencyFigure('none', 99, 'HSET latency p99, no backfill'),
        latencyFigure('limited', 50, `HSET latency p50, backfill --rate ${limitedRate}`),
        latencyFigure('limited', 99, `HSET latency p99, backfill --rate ${limitedRate}`),
        latencyFigure('unlimited', 50, 'HSET latency p50, unlimited backfill'),
        latencyFigure('unlimited', 99, 'HSET latency p99, unlimited backfill'),
      ],
      notes: [
        `${total} hashes written to the redis-server with notifications off (never captured), one worker process (batch size 1000, exactly-once on); backfill pages of 100 keys per TFCALL`,
        `HSET latency: a probe client writing other keys through the runtime every ${PROBE_INTERVAL_MS} ms; samples ${Object.entries(latency).map(([k, v]) => `${k} ${v.length}`).join(', ')}`,
      ],
    };
  },
};

function backfillArgs(pipeline: Pipeline, extra: string[]): string[] {
  return ['backfill', '--writer', BENCH_WRITER, '--restart', '--redis', pipeline.runtimeUrl, '--config', pipeline.configFile, ...extra];
}

/** Hashes person:1..n on the redis-server with its keyspace notifications off: the runtime never hears of them. */
async function writeUncaptured(direct: RedisClientType, n: number): Promise<void> {
  const flags = ((await direct.sendCommand(['CONFIG', 'GET', 'notify-keyspace-events'])) as string[])[1] ?? '';
  await direct.sendCommand(['CONFIG', 'SET', 'notify-keyspace-events', '']);
  try {
    for (let start = 1; start <= n; start += 1000) {
      const multi = direct.multi();
      for (let i = start; i < Math.min(n + 1, start + 1000); i++) multi.hSet(`person:${i}`, personHashFields(i));
      await multi.execAsPipeline();
    }
  } finally {
    await direct.sendCommand(['CONFIG', 'SET', 'notify-keyspace-events', flags]);
  }
  if ((await direct.dbSize()) < n) throw new Error(`only ${await direct.dbSize()} keys written of ${n}`);
}

/** HSET round trips (ms) of the probe, one every PROBE_INTERVAL_MS, until `until` settles. */
async function probeWhile(client: RedisClientType, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const samples: number[] = [];
  for (let i = 0; !done; i++) {
    const started = performance.now();
    await client.hSet(`person:${10_000_000 + (i % 1000)}`, { first_name: 'probe', last_name: 'probe', age: String(i % 90) });
    samples.push(performance.now() - started);
    await sleep(PROBE_INTERVAL_MS);
  }
  return samples;
}
