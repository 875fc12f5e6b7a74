/**
 * The CLI and the metrics around a writer with `partitions: 4`: `status` sums the partitions and lists each,
 * the worker's gauges sum them, and `dlq list|replay|purge` go over every partition's dead letters (a replay
 * goes back into the key's partition).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDlq } from '../../src/cli/actions/dlq.js';
import { runStatus } from '../../src/cli/actions/status.js';
import { partitionOfKey, partitionsOf } from '../../src/shared/keys.js';
import { silentLogger } from '../../src/shared/log.js';
import { compareStreamIds } from '../../src/shared/stream-id.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { exampleConfig, startPipeline, until, type Pipeline } from './pipeline-helpers.js';

const WRITER = 'PersonsWriteBehind';
const PARTITIONS = 4;
let p: Pipeline;
let worker: WorkerService | undefined;

beforeAll(async () => {
  const persons = { ...exampleConfig().writers[0]!, partitions: PARTITIONS };
  p = await startPipeline('partitions_cli', exampleConfig({ writers: [persons] }));
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string }>>('SELECT first FROM persons WHERE person_id = ?', [id]))[0];
const status = (print: (t: string) => void = () => undefined) => runStatus({ redis: p.runtime.url, config: p.configFile }, print);

/** Two ids whose keys `person:<id>` fall in different partitions. */
function idsInTwoPartitions(): [string, string] {
  const first = 'dl0';
  for (let i = 1; ; i++) if (partitionOfKey(`person:dl${i}`, PARTITIONS) !== partitionOfKey(`person:${first}`, PARTITIONS)) return [first, `dl${i}`];
}

describe('a writer with partitions: 4 in the CLI', () => {
  it('status sums the partitions and lists each; the worker drains them and its gauges sum them', async () => {
    for (let i = 0; i < 40; i++) await p.client.hSet(`person:s${i}`, { first_name: `S${i}` });
    const lines: string[] = [];
    const before = await status((t) => lines.push(t));
    const persons = before.writers[0]!;
    expect(persons).toMatchObject({ writer: WRITER, backlog: 40 });
    expect(persons.partitions!.map((log) => log.stream)).toEqual([`wb:changes:{${WRITER}}`, ...partitionsOf(WRITER, PARTITIONS).map((k) => k.changes)]);
    expect(persons.partitions!.filter((log) => log.backlog > 0).length).toBeGreaterThan(1);
    for (const log of persons.partitions!) expect(lines.join('\n')).toContain(`  ${log.stream}: backlog ${log.backlog}`);

    worker = await startWorkerService({ redisUrl: p.runtime.url, mysqlUrl: p.db.url, config: p.config, metricsPort: 0, log: silentLogger });
    await until(async () => (await p.db.query<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM persons WHERE person_id LIKE 's%'"))[0]!.n, (n) => Number(n) === 40, 15_000);
    const after = (await until(() => status(), (r) => r.writers[0]!.backlog === 0)).writers[0]!;
    expect(after).toMatchObject({ committedRows: 40, captured: 40 });
    const metrics = await until(async () => (await fetch(`http://127.0.0.1:${worker!.metricsPort}/metrics`)).text(), (text) => text.includes(`writebehind_captured_records{writer="${WRITER}"} 40`), 10_000);
    expect(metrics).toContain(`writebehind_backlog_records{writer="${WRITER}"} 0`);
  });

  it('dlq lists every partition in time order, replays into the key partition, purges all', async () => {
    const [a, b] = idsInTwoPartitions();
    await p.client.hSet(`person:${a}`, { first_name: 'A name that does not fit twenty' });
    await p.client.hSet(`person:${b}`, { first_name: 'Another name much too long' });
    const listed = await until(() => runDlq({ action: 'list', writer: WRITER, redis: p.runtime.url, config: p.configFile }, () => undefined), (r) => r.letters.length === 2, 15_000);
    // Merged by dead-letter id: the order the two partition loops rejected them in.
    expect(listed.letters.map((l) => l.key).sort()).toEqual([`person:${a}`, `person:${b}`]);
    // Ids of two streams: compared as numbers, and equal when both partitions rejected in the same millisecond.
    expect(compareStreamIds(listed.letters[0]!.id, listed.letters[1]!.id)).toBeLessThanOrEqual(0);
    const [first, second] = listed.letters.map((l) => l.key!.slice('person:'.length)) as [string, string];
    const lines: string[] = [];
    const report = await status((t) => lines.push(t));
    expect(report.writers[0]!.deadLetters).toBe(2);
    await p.db.query('ALTER TABLE persons MODIFY first VARCHAR(100)');
    try {
      const replayed = await runDlq({ action: 'replay', writer: WRITER, count: 1, redis: p.runtime.url, config: p.configFile }, (t) => lines.push(t));
      expect(replayed).toMatchObject({ removed: 1, skipped: 0 });
      expect(lines.at(-1)).toContain(partitionsOf(WRITER, PARTITIONS)[partitionOfKey(`person:${first}`, PARTITIONS)]!.changes);
      expect(await until(() => rowOf(first), (r) => r !== undefined)).toMatchObject({ first: expect.stringContaining('name') });
      const purged = await runDlq({ action: 'purge', writer: WRITER, redis: p.runtime.url, config: p.configFile }, () => undefined);
      expect(purged.removed).toBe(1);
      expect((await runDlq({ action: 'list', writer: WRITER, redis: p.runtime.url, config: p.configFile }, () => undefined)).letters).toEqual([]);
      expect(await rowOf(second)).toBeUndefined();
    } finally {
      await p.db.query('DELETE FROM persons WHERE CHAR_LENGTH(first) > 20');
      await p.db.query('ALTER TABLE persons MODIFY first VARCHAR(20)');
    }
  });
});
