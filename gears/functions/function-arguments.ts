/**
 * Checks of TFCALL arguments. RedisGears passes keys and arguments as one list of strings, so each function
 * checks the count and every value itself; failures are thrown as "ERR <function>: ..." strings, which become
 * the caller's error reply as they are.
 */
import { isStreamId } from '../../src/shared/stream-id.js';
import type { WriterContext, WriterContexts } from '../writer-context.js';

export function functionError(fn: string, message: string): string {
  return `ERR ${fn}: ${message}`;
}

export function expectArgumentCount(fn: string, args: readonly string[], names: readonly string[]): void {
  if (args.length !== names.length) {
    throw functionError(fn, `expected ${names.length} keys and arguments (${names.join(', ')}), got ${args.length}`);
  }
}

/** The writer whose capture stream `stream` is. */
export function writerOfStream(fn: string, writers: WriterContexts, stream: string): WriterContext {
  const writer = writers.get(stream);
  if (writer === undefined) {
    throw functionError(fn, `'${stream}' is not the capture stream of a configured writer (${[...writers.keys()].join(', ')})`);
  }
  return writer;
}

export function streamIdArgument(fn: string, name: string, value: string): string {
  if (!isStreamId(value)) throw functionError(fn, `${name} must be a stream id <ms>-<seq>, got '${value}'`);
  return value;
}

export function nonNegativeIntegerArgument(fn: string, name: string, value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw functionError(fn, `${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}
