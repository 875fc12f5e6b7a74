/**
 * Entry point of the RedisGears library: validates `redis.config` and registers, per writer, the keyspace trigger
 * that captures its hashes, then the stream trigger that batches every capture stream and the TFCALL functions
 * the worker and operators use. build/build.mjs bundles this into dist/writebehind.js, a classic script.
 *
 * Every options object is a fresh literal inside its register* function: RedisGears consumes the keys of an
 * options object, so one object must never serve two registrations.
 */
import { createBatcher } from './batching/batcher.js';
import { registerBatcherTrigger } from './batching/batcher-trigger.js';
import { OpenRecordCounts } from './batching/open-records.js';
import { registerCaptureTrigger } from './capture/capture-trigger.js';
import { registerAdoptFunction } from './functions/adopt.js';
import { registerBackfillFunction, registerDeleteMissingFunction } from './functions/backfill.js';
import { registerCommittedFunction, registerCommittedManyFunction } from './functions/committed.js';
import { registerCutFunction } from './functions/cut.js';
import { registerForgetDivergentFunction } from './functions/forget-divergent.js';
import { registerReadyFunction } from './functions/ready.js';
import { registerRecaptureFunction } from './functions/recapture.js';
import { registerStatusFunction } from './functions/status.js';
import { registerVersionFunction } from './functions/version.js';
import { loadLibraryConfig } from './library-config.js';
import { WriterContexts, createLegacyContext, createWriterContexts } from './writer-context.js';

const config = loadLibraryConfig(redis.config);
// One context per writer, or per partition of a partitioned writer.
const partitionsOfWriters = config.writers.map((writer) => createWriterContexts(writer, config));
// A partitioned writer's old unpartitioned stream is batched and committed as well (never captured into), so
// a backlog left there by the previous library drains.
const legacyStreams = config.writers.map((writer) => createLegacyContext(writer, config)).filter((c) => c !== null);
const writers = [...partitionsOfWriters.flat(), ...legacyStreams];
// By capture stream; on a cluster also each writer's per-slot logs (capture-trigger.ts).
const writersByStream = new WriterContexts(writers, config.writers, config);
// The records counted since each writer's last cut, shared by the batcher, `cut` and `status`.
const openRecords = new OpenRecordCounts(config.batch.size);

for (const partitions of partitionsOfWriters) registerCaptureTrigger(partitions, writersByStream);
registerBatcherTrigger(createBatcher(writersByStream, openRecords, config.batch.size));
registerCutFunction(writersByStream, openRecords);
registerReadyFunction(config.writers.map((writer) => writer.name), writersByStream, openRecords);
registerAdoptFunction(config.writers.map((writer) => writer.name), writersByStream, openRecords);
registerCommittedFunction(writersByStream, openRecords);
registerCommittedManyFunction(writersByStream, openRecords);
registerBackfillFunction(writersByStream);
registerDeleteMissingFunction(writersByStream);
registerForgetDivergentFunction(writersByStream);
registerRecaptureFunction(partitionsOfWriters, writersByStream);
registerStatusFunction(config.name, __LIBRARY_VERSION__, writers, openRecords, config.batch.size);
registerVersionFunction(__LIBRARY_VERSION__);
