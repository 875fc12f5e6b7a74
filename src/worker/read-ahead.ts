/**
 * The read-ahead (prefetch) of a writer loop: while one group of batches is written, the first part of the
 * group that continues it is read (and parsed) on a second connection. Records of held batches cannot change
 * before they are committed, and the groups still commit one after another, so reading early is only a read:
 * nothing to undo when it is not used. A failed read ahead is seen (and retried) by the group's own write.
 *
 * @internal
 */
import { compareStreamIds } from '../shared/stream-id.js';
import type { BatchDescriptor } from './batch-descriptor.js';
import { groupBatches, sameGroup, type BatchGroup } from './batch-group.js';
import type { RecordPart } from './record-reader.js';
import type { StreamClient } from './redis/stream-client.js';

/** Reads the part of `group` after `after` on `client`. */
export type ReadPart = (group: BatchGroup, after: string, client: StreamClient) => Promise<RecordPart>;

/** The descriptors a loop holds: which it still owns, in stream order. */
export interface HeldBatches {
  has(id: string): boolean;
  ordered(): readonly BatchDescriptor[];
}

interface Prefetch {
  readonly group: BatchGroup;
  readonly records: Promise<RecordPart>;
}

export class ReadAhead {
  readonly #readPart: ReadPart;
  /** The loop's own connection, for a group nobody read ahead. */
  readonly #client: StreamClient;
  /** The second connection the read ahead uses. */
  readonly #reader: StreamClient;
  readonly #groupRecords: number;
  #prefetch: Prefetch | undefined;

  constructor(readPart: ReadPart, client: StreamClient, reader: StreamClient, groupRecords: number) {
    this.#readPart = readPart;
    this.#client = client;
    this.#reader = reader;
    this.#groupRecords = groupRecords;
  }

  /** The group that starts at `ordered[index]`: the one already being read ahead, if it starts there. */
  groupAt(ordered: readonly BatchDescriptor[], index: number, held: HeldBatches): BatchGroup {
    const ahead = this.#prefetch?.group;
    if (ahead !== undefined && ahead.descriptors[0]!.id === ordered[index]!.id && ahead.descriptors.every((d) => held.has(d.id))) return ahead;
    return groupBatches(ordered.slice(index).filter((d) => held.has(d.id)), 0, this.#groupRecords);
  }

  /** The group's first part: read ahead while the previous group was written, else started now. */
  take(group: BatchGroup): Promise<RecordPart> {
    const prefetch = this.#prefetch;
    this.#prefetch = undefined;
    if (prefetch !== undefined && sameGroup(prefetch.group, group)) return prefetch.records;
    const records = this.#readPart(group, group.from, this.#client);
    records.catch(() => undefined); // awaited by the group's write, which retries on failure
    return records;
  }

  /** Starts reading the group that follows `current`, if the loop holds the batch that continues it. */
  follow(current: BatchGroup, held: HeldBatches): void {
    const last = current.descriptors.at(-1)!;
    const following = held.ordered().filter((d) => compareStreamIds(d.id, last.id) > 0);
    // Only the batch that continues this group; any other would wait for an earlier batch anyway.
    if (following[0]?.from !== current.to) return;
    const next = groupBatches(following, 0, this.#groupRecords);
    if (this.#prefetch !== undefined && sameGroup(this.#prefetch.group, next)) return;
    const records = this.#readPart(next, next.from, this.#reader);
    // Its failure is seen (and retried) by the group's own write; until then it must not count as unhandled.
    records.catch(() => undefined);
    this.#prefetch = { group: next, records };
  }

  /** Lets a read in flight on the reader connection end (before that connection closes), and forgets it. */
  async settle(): Promise<void> {
    await this.#prefetch?.records.catch(() => undefined);
    this.#prefetch = undefined;
  }
}
