/**
 * A client that pipelines captured writes must not hold off every other client of the runtime. Captured writes
 * run one at a time under the exclusive lock, each waiting synchronously for redis-server (sendFenced), so a
 * client's pipeline read in one chunk could run to its end without the event loop reading any other socket: the
 * worker's calls then waited for whole chunks of the application's writes (bench (d): groups of 1.2 s p99 whose
 * MySQL part was 10 ms), which no FIFO in the lock can fix, since the waiting commands were never read. Between
 * a client's commands, once they have run for a while, the runtime lets the event loop read the other sockets.
 *
 * The runtime runs in a process of its own: in this process its synchronous waits would stop the test's clock
 * and sockets too, and nothing could be measured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntimeProcess, type RuntimeProcess } from '../helpers/runtime-process.js';
import { RespSocket } from '../helpers/resp-socket.js';

/** Each captured write's trigger spins this long: a pipeline of WRITES takes WRITES × SPIN_MS to run. */
const SPIN_MS = 2;
const WRITES = 200;

const LIBRARY = `#!js api_version=1.0 name=fair
redis.registerKeySpaceTrigger('spin', 'fair:', () => {
  const end = Date.now() + ${SPIN_MS};
  while (Date.now() < end) {}
});`;

let redis: RedisServer;
let runtime: RuntimeProcess;

beforeAll(async () => {
  redis = await startRedisServer();
  runtime = await startRuntimeProcess(redis);
  const client = createClient({ url: runtime.url });
  await client.connect();
  await client.sendCommand(['TFUNCTION', 'LOAD', LIBRARY]);
  client.destroy();
}, 30_000);

afterAll(async () => {
  await runtime?.close();
  await redis?.stop();
});

describe('a client pipelining captured writes', () => {
  it("does not hold off another client's command until its whole pipeline has run", async () => {
    const writer = await RespSocket.open(runtime.port);
    const other = await RespSocket.open(runtime.port);
    try {
      const started = performance.now();
      // One write: the runtime reads the whole pipeline in one chunk.
      writer.send(...Array.from({ length: WRITES }, (_, i) => ['HSET', `fair:${i}`, 'f', 'v']));
      const written = writer.read(WRITES, 20_000).then(() => performance.now() - started);
      // Sent while the pipeline runs: a read of a key no trigger watches, as the worker's reads are.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const asked = performance.now();
      other.send(['GET', 'unwatched']);
      await other.read(1, 20_000);
      const waited = performance.now() - asked;
      const pipelineMs = await written;
      // The set-up holds: the pipeline ran long enough for a wait behind all of it to show.
      expect(pipelineMs).toBeGreaterThan(WRITES * SPIN_MS * 0.8);
      // Behind a few captured writes at most, not behind the rest of the pipeline (~350 ms).
      expect(waited, `GET answered after ${waited.toFixed(0)} ms; the pipeline took ${pipelineMs.toFixed(0)} ms`).toBeLessThan(60);
    } finally {
      writer.close();
      other.close();
    }
  }, 30_000);
});
