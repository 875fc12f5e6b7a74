/**
 * Reads the capture records of a group of batches in parts bounded in bytes, so that the worker's memory does
 * not grow with the values: a batch of a thousand 1 MB values is read (and written) a few MiB at a time.
 *
 * XRANGE can only be bounded in entries, so the page size follows the entries seen: each page asks for as many
 * entries as fit in the part's remaining bytes at the size of the largest entry of the previous page (at most
 * `pageSize`; 16 before anything is known). A part ends once it holds `partBytes` or reaches the group's end;
 * it always holds at least one entry. What the parts leave behind is collected (heap-release.ts).
 *
 * @internal
 */
import type { BatchGroup } from './batch-group.js';
import { HeapRelease } from './heap-release.js';
import type { CaptureRecord } from './capture-record.js';
import type { Unparsable } from './redis/capture-page.js';
import type { StreamClient } from './redis/stream-client.js';

/** Consecutive capture records of a group, read and parsed: the range (from, to] of its stream. */
export interface RecordPart {
  readonly records: CaptureRecord[];
  readonly unparsable: Unparsable[];
  /** Exclusive lower bound: the group's `from`, or the previous part's `to`. */
  readonly from: string;
  /** Inclusive upper bound: the group's `to` when the part is its last. */
  readonly to: string;
  /** The last part of the group. */
  readonly last: boolean;
  /** Entries read (records and unparsable). */
  readonly entries: number;
}

/** Page size before any entry has been seen: small, since one entry may be large. */
const FIRST_PAGE = 16;

export class RecordReader {
  readonly #stream: string;
  readonly #pageSize: number;
  readonly #partBytes: number;
  /** Bytes of the largest entry of the last page read; 0 before the first. */
  #largestEntry = 0;
  readonly #release: HeapRelease;

  constructor(stream: string, options: { pageSize: number; partBytes: number }) {
    this.#stream = stream;
    this.#pageSize = options.pageSize;
    this.#partBytes = options.partBytes;
    this.#release = new HeapRelease({ everyBytes: 4 * options.partBytes, idleBytes: options.partBytes });
  }

  /** The loop has nothing to do: give back what the parts read so far left behind. */
  idle(): void {
    this.#release.idle();
  }

  /** The part of `group` that follows `after` (the group's `from` for its first part). */
  async readPart(client: StreamClient, group: BatchGroup, after: string): Promise<RecordPart> {
    const records: CaptureRecord[] = [];
    const unparsable: Unparsable[] = [];
    let entries = 0;
    let bytes = 0;
    let cursor = after;
    let last = false;
    while (!last && bytes < this.#partBytes) {
      const count = this.#largestEntry === 0 ? Math.min(FIRST_PAGE, this.#pageSize) : Math.max(1, Math.min(this.#pageSize, Math.floor((this.#partBytes - bytes) / this.#largestEntry)));
      const page = await client.rangeRecords(this.#stream, cursor, group.to, count);
      for (const record of page.records) records.push(record);
      for (const entry of page.unparsable) unparsable.push(entry);
      entries += page.entries;
      bytes += page.bytes;
      if (page.entries > 0) this.#largestEntry = page.largestEntry;
      // A short page, or one that ends at `to`, is the group's last: asking again would only return nothing.
      last = page.entries < count || page.lastId === undefined || page.lastId === group.to;
      if (page.lastId !== undefined) cursor = page.lastId;
    }
    this.#release.read(bytes);
    return { records, unparsable, from: after, to: last ? group.to : cursor, last, entries };
  }
}
