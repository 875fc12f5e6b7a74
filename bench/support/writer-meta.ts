/** The bench writer's meta hash counters (written by the library; see docs/library.md). */
import type { RedisClientType } from 'redis';
import { MetaField } from '../../src/shared/protocol.js';
import { benchKeys } from './pipeline.js';

export interface WriterCounters {
  readonly captured: number;
  readonly committedRows: number;
  readonly committed: string;
  readonly deadLettered: number;
}

export async function readWriterCounters(client: RedisClientType): Promise<WriterCounters> {
  const meta = await client.hGetAll(benchKeys.meta);
  return {
    captured: Number(meta[MetaField.captured] ?? 0),
    committedRows: Number(meta[MetaField.committedRows] ?? 0),
    committed: meta[MetaField.committed] ?? '0-0',
    deadLettered: Number(meta[MetaField.deadLettered] ?? 0),
  };
}
