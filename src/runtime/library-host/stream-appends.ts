/**
 * Entries that library calls appended to streams a stream trigger watches, as their XADD gave them (fields) and
 * the server answered (id), so that the stream reader can deliver them without reading them back.
 *
 * Only a plain `XADD <key> [NOMKSTREAM] <* | id> field value …` is noted. Any other call that appends to a
 * watched stream (an XADD with other options, a refused one) marks that stream unknown for the window, and the
 * reader reads it.
 */
import type { RespValue } from '../resp/types.js';
import { streamStateKey } from './stream-trigger.js';

export interface StreamEntry {
  /** "ms-seq" as Redis replied it. */
  readonly id: string;
  readonly fields: [Buffer, Buffer][];
}

/** Per stream state key (db and name): the entries appended in order, or null when they are not known. */
export type Appended = ReadonlyMap<string, readonly StreamEntry[] | null>;

/** `*`, or an explicit id (`ms`, `ms-seq`, `ms-*`): anything else in that place is an option. */
const ID_ARGUMENT = /^(\*|\d+(-(\d+|\*))?)$/;

export class StreamAppends {
  readonly #watched: (key: Buffer) => boolean;
  #appended = new Map<string, StreamEntry[] | null>();

  constructor(watched: (key: Buffer) => boolean) {
    this.#watched = watched;
  }

  /** Notes a call made in `db` and its reply. */
  note(argv: readonly Buffer[], reply: RespValue, db: number): void {
    if (argv.length < 3 || argv[0]!.length !== 4 || argv[0]!.toString('latin1').toLowerCase() !== 'xadd') return;
    const key = argv[1]!;
    if (!this.#watched(key)) return;
    // NOMKSTREAM on a missing stream: nothing appended, no event.
    if (reply.type === 'null') return;
    const stateKey = streamStateKey(db, key);
    const known = this.#appended.get(stateKey);
    const idAt = argv[2]!.toString('latin1').toLowerCase() === 'nomkstream' ? 3 : 2;
    const plain = reply.type === 'blob' && argv.length > idAt + 1 && (argv.length - idAt - 1) % 2 === 0 && ID_ARGUMENT.test(argv[idAt]!.toString('latin1'));
    if (!plain || known === null) {
      this.#appended.set(stateKey, null);
      return;
    }
    const fields: [Buffer, Buffer][] = [];
    for (let i = idAt + 1; i < argv.length; i += 2) fields.push([argv[i]!, argv[i + 1]!]);
    const entry = { id: reply.value.toString('latin1'), fields };
    if (known === undefined) this.#appended.set(stateKey, [entry]);
    else known.push(entry);
  }

  /** What was appended since the last take. */
  take(): Appended {
    const appended = this.#appended;
    if (appended.size > 0) this.#appended = new Map();
    return appended;
  }
}
