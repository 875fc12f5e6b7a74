/**
 * Every counter an operator alerts on is exposed at 0 from the first scrape, for each writer (and each retry
 * kind, each kept setting): Prometheus' `increase()` over a series that appears with its first event at 1 sees
 * no increase, so an alert on the first dead letter of a writer, or on the first setting changed behind the
 * runtime's back, never fired. Scraped as Prometheus scrapes them, from a worker and a runtime that have done
 * nothing yet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../bench/support/redis-server-process.js';
import { silentLogger } from '../../src/shared/log.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { startRuntimeProcess } from '../helpers/runtime-process.js';
import { startPipeline, type Pipeline } from './pipeline-helpers.js';

let p: Pipeline;
let worker: WorkerService;

beforeAll(async () => {
  p = await startPipeline('metricszero');
  worker = await startWorkerService({ redisUrl: p.runtime.url, mysqlUrl: p.db.url, config: p.config, metricsPort: 0, log: silentLogger });
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

/** The sample lines of one metric, `name{labels} value`. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('counters are exposed at 0 before their first event', () => {
  it("the worker's: every counter and histogram for each writer of its config, retries for each kind", async () => {
    const text = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
    for (const writer of p.config.writers.map((w) => w.name)) {
      for (const counter of ['writebehind_batches_total', 'writebehind_committed_rows_total', 'writebehind_records_total', 'writebehind_dead_lettered_total']) {
        expect(samples(text, counter), counter).toContain(`${counter}{writer="${writer}"} 0`);
      }
      for (const histogram of ['writebehind_batch_duration_seconds_count', 'writebehind_commit_lag_seconds_count']) {
        expect(samples(text, histogram), histogram).toContain(`${histogram}{writer="${writer}"} 0`);
      }
      for (const kind of ['mysql', 'schema', 'redis', 'replicas']) {
        expect(samples(text, 'writebehind_retries_total')).toContain(`writebehind_retries_total{writer="${writer}",kind="${kind}"} 0`);
      }
    }
  });

  it("the runtime's: settings changed behind its back, for each setting it keeps", { timeout: 30_000 }, async () => {
    // A server of its own: the pipeline's runtime holds the lease on p.server.
    const server = await startRedisServer();
    const metricsPort = await findFreePort();
    const runtime = await startRuntimeProcess(server, ['--metrics-port', String(metricsPort)]);
    try {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const counter = 'writebehind_runtime_server_settings_changed_total';
      expect(samples(text, counter)).toEqual(expect.arrayContaining([`${counter}{setting="notify-keyspace-events"} 0`, `${counter}{setting="client-output-buffer-limit"} 0`]));
    } finally {
      await runtime.close();
      await server.stop();
    }
  });
});
