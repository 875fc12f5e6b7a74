/**
 * DRAIN BY PARTITIONS: the drain of one writer's backlog with `partitions: 1`, 2 and 4 on one Redis. For each
 * count, a fresh pipeline (redis-server, runtime, library with that many partitions) receives `rows` capture
 * records, each XADDed through the runtime into the stream of its key's partition (so the library's batcher
 * cuts them as it would live captures; capturing 100k HSETs through the runtime's keyspace trigger would take
 * minutes per count), then one worker process drains them: rows committed per second from the first row to
 * the last. With more partitions the worker runs more loops, each its own MySQL transaction stream.
 */
import type { RedisClientType } from 'redis';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { partitionOfKey, captureLogsOf } from '../../src/shared/keys.js';
import { BENCH_WRITER, benchConfig } from '../support/bench-config.js';
import { captureRecordFields, captureRecordKey } from '../support/capture-records.js';
import { PERSONS_TABLE } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';
import { startPipeline } from '../support/pipeline.js';
import { startProgress } from '../support/progress.js';
import { sleep } from '../support/sleep.js';
import { summarize } from '../support/stats.js';
import { waitFor } from '../support/wait.js';

const COUNTS = [1, 2, 4] as const;
const POLL_MS = 20;
const XADD_PIPELINE = 1000;

export const partitionedDrainScenario: Scenario = {
  id: 'drain-partitions',
  title: 'drain of one writer by partitions (1, 2, 4) on one Redis',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const rates = new Map<number, number[]>(COUNTS.map((count) => [count, []]));
    for (let rep = 1; rep <= scale.reps; rep++) {
      for (const count of COUNTS) {
        await resetPersons(db);
        const pipeline = await startPipeline({ config: benchConfig({ partitions: count }), mysqlUrl: db.url });
        try {
          const client = await pipeline.connect();
          await loadBacklog(client, count, scale.rows, `partitions ${count}`);
          const logs = captureLogsOf(BENCH_WRITER, count);
          await waitFor('every record in its stream', async () => {
            let total = 0;
            for (const log of logs) total += await client.xLen(log.changes);
            return total >= scale.rows;
          }, 60_000);
          const progress = startProgress(`drain rep ${rep}/${scale.reps}, ${count} partition(s)`, 'rows');
          const worker = pipeline.startWorker({ consumer: `drain-p${count}` });
          let firstAt = 0;
          let firstCount = 0;
          try {
            for (;;) {
              const [rows] = await db.admin.query(`SELECT COUNT(*) AS n FROM ${PERSONS_TABLE}`);
              const n = Number((rows as Array<{ n: number }>)[0]!.n);
              const now = performance.now();
              if (n > 0 && firstAt === 0) [firstAt, firstCount] = [now, n];
              progress.update(n, scale.rows);
              if (n >= scale.rows) {
                if (n > firstCount) rates.get(count)!.push((n - firstCount) / ((now - firstAt) / 1000));
                break;
              }
              if (!worker.isRunning()) throw new Error(`the worker exited during the drain:\n${worker.tail()}`);
              await sleep(POLL_MS);
            }
          } finally {
            await worker.stop();
          }
        } finally {
          await pipeline.close();
        }
      }
    }
    return {
      id: this.id,
      title: this.title,
      figures: COUNTS.map((count) => ({
        id: `drainPartitions.p${count}.rowsPerSecond`,
        label: `rows/s, first row to last, partitions: ${count}`,
        unit: 'rows/s',
        summary: summarize(rates.get(count)!),
        origin: 'local-runtime' as const,
      })),
      notes: [
        `backlog of ${scale.rows} distinct persons' upserts XADDed through the runtime into their partitions' streams, batch size 1000, exactly-once on, one worker process (one loop per partition, plus the unpartitioned stream's, empty here); MySQL polled every ${POLL_MS} ms`,
        'every partition loop, the runtime, redis-server and MariaDB share this machine\'s cores: parallel commits can only add throughput where there are cores (and MySQL capacity) for them',
      ],
    };
  },
};

/** `rows` capture records of `person:1..rows`, each into its key's partition's stream, through the runtime. */
async function loadBacklog(client: RedisClientType, count: number, rows: number, label: string): Promise<void> {
  const logs = captureLogsOf(BENCH_WRITER, count);
  // Unpartitioned: the writer's own stream; else the partitions (the unpartitioned stream is logs[0]).
  const streamOf = (key: string) => (count === 1 ? logs[0]! : logs[1 + partitionOfKey(key, count)]!).changes;
  const load = startProgress(`${label}: capture records through the runtime`, 'records');
  for (let start = 0; start < rows; start += XADD_PIPELINE) {
    const multi = client.multi();
    for (let id = start + 1; id <= Math.min(rows, start + XADD_PIPELINE); id++) {
      multi.xAdd(streamOf(captureRecordKey(id)), '*', Object.fromEntries(captureRecordFields(id)));
    }
    await multi.execAsPipeline();
    load.update(Math.min(rows, start + XADD_PIPELINE), rows);
  }
}
