/**
 * (g) THE WORKER'S DATA PATH, WITHOUT THE RUNTIME: N capture records (the library's format, written straight
 * into a redis-server stream) read back with the worker's own Redis client in XRANGE pages, parsed by the
 * worker's parser and written by the worker's MysqlBatchWriter in transactions of 5000 records (the worker's
 * default group) with the exactly-once row; the next group is read while the current one commits, as the
 * worker does. No runtime, no descriptors, no acknowledgements: what any Node worker must at least spend to
 * move these rows from a Redis stream into MariaDB. Between the ceiling (a) and the drain (c), it shows how
 * much of the gap is reading the changes and how much is everything else.
 */
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import type { CaptureRecord } from '../../src/worker/capture-record.js';
import { createMysqlPool } from '../../src/worker/mysql/mysql-pool.js';
import { MysqlBatchWriter } from '../../src/worker/mysql/mysql-batch-writer.js';
import type { RedisStreamClient } from '../../src/worker/redis/redis-stream-client.js';
import { benchConfig } from '../support/bench-config.js';
import { PERSONS_TABLE } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';
import { startProgress } from '../support/progress.js';
import { summarize } from '../support/stats.js';
import { withStreamBacklog } from '../support/stream-backlog.js';

const STREAM = 'bench:changes';
const PAGE = 1000;
const GROUP = 5000;

export const dataPathScenario: Scenario = {
  id: 'data-path',
  title: "(g) the worker's data path without the runtime: XRANGE + parse + MysqlBatchWriter",
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const samples: number[] = [];
    const workerCpu: number[] = [];
    await withStreamBacklog(STREAM, scale.rows, 'data path', async (client) => {
      const config = benchConfig();
      for (let rep = 1; rep <= scale.reps; rep++) {
        await resetPersons(db);
        const writer = new MysqlBatchWriter({ pool: createMysqlPool({ url: db.url }), config });
        await writer.prepare();
        try {
          const progress = startProgress(`data path rep ${rep}/${scale.reps}`, 'rows');
          const cpuBefore = process.cpuUsage();
          const started = performance.now();
          const rows = await moveAll(client, writer, (done) => progress.update(done, scale.rows));
          samples.push(rows / ((performance.now() - started) / 1000));
          const cpu = process.cpuUsage(cpuBefore);
          workerCpu.push((cpu.user + cpu.system) / rows);
          const [counted] = await db.admin.query(`SELECT COUNT(*) AS n FROM ${PERSONS_TABLE}`);
          const n = Number((counted as Array<{ n: number }>)[0]!.n);
          if (n !== scale.rows) throw new Error(`the data path wrote ${n} rows, expected ${scale.rows}`);
        } finally {
          await writer.close();
        }
      }
    });
    return {
      id: this.id,
      title: this.title,
      figures: [
        { id: 'dataPath.rowsPerSecond', label: 'rows/s', unit: 'rows/s', summary: summarize(samples), origin: 'redis-server' },
        // The worker's own CPU per row (reading, parsing, planning, mysql2): on a shared machine the rate moves
        // with the neighbours' load, this hardly.
        { id: 'dataPath.workerCpuMicros', label: 'CPU per row, worker process', unit: 'µs', summary: summarize(workerCpu), origin: 'redis-server' },
      ],
      notes: [`${scale.rows} capture records in one stream of a redis-server of its own; pages of ${PAGE}, transactions of ${GROUP} records with the exactly-once row, the next group read while the current one commits; one Redis connection, one MySQL connection`],
    };
  },
};

/** Reads the whole stream group by group and writes each group in one transaction; returns the rows written. */
async function moveAll(client: RedisStreamClient, writer: MysqlBatchWriter, onProgress: (done: number) => void): Promise<number> {
  let rows = 0;
  let next = readRecordGroup(client, '0-0');
  for (;;) {
    const group = await next;
    if (group.records.length === 0) return rows;
    next = readRecordGroup(client, group.to);
    const result = await writer.write({ writer: 'data-path', stream: STREAM, descriptorId: group.to, from: group.from, to: group.to, records: group.records });
    rows += result.rows;
    onProgress(rows);
  }
}

async function readRecordGroup(client: RedisStreamClient, after: string): Promise<{ from: string; to: string; records: CaptureRecord[] }> {
  const records: CaptureRecord[] = [];
  let last = after;
  while (records.length < GROUP) {
    const page = await client.rangeRecords(STREAM, last, '+', PAGE);
    const bad = page.unparsable[0];
    if (bad !== undefined) throw new Error(`unparsable capture record ${bad.entry.id}: ${bad.reason}`);
    for (const record of page.records) records.push(record);
    if (page.entries < PAGE) break;
    last = page.lastId!;
  }
  return { from: after, to: records.at(-1)?.id ?? after, records };
}
