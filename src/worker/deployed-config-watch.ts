/**
 * The running worker's watch on the deployed config: a redeploy (`writebehind deploy`, `TFUNCTION LOAD REPLACE
 * CONFIG`) under it that changes a writer's capture (deployed-config.ts says what counts) must stop that writer,
 * not leave it writing records of the new config with its old one. Two ways notice it:
 *
 * - every batch the library cuts carries its writer's capture stamp (src/shared/capture-config.ts); a writer
 *   loop that meets another stamp than its own asks `problemsOf` before writing that batch: exact, since every
 *   record captured after the redeploy is in a batch the new library cut;
 * - every `intervalMs` this watch reads the deployed config (one `TFUNCTION LIST LIBRARY` per node), for a
 *   writer with no batch to show it (idle, or its writer gone from the library) and for batches of a library
 *   that stamps none.
 *
 * A stamp that differs while the deployed config still matches is a backlog cut under an earlier deployment
 * (the worker was restarted with the new config, as it should be): it is written, as before stamps.
 */
import type { WriteBehindConfig } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import type { LibraryListing } from './capture-failures.js';
import { deployedConfigOf, writerMismatches } from './deployed-config.js';

/** What a writer loop asks about a batch of another stamp than its own. */
export interface DeployedCaptureCheck {
  /**
   * How the deployed library now captures `writer` otherwise than this worker's config (`writers[i].<field>: …`),
   * read now from every node; empty when it agrees, or when no node shows a config this worker can read. Throws
   * when Redis does not answer (the loop retries).
   */
  problemsOf(writer: string): Promise<string[]>;
}

export interface DeployedConfigWatchOptions {
  /** The library's listing on each node that runs it (one Redis, or every primary of a cluster), asked at each read. */
  readonly listings: () => readonly LibraryListing[];
  readonly config: WriteBehindConfig;
  readonly log: Logger;
  /** @defaultValue 5000 */
  readonly intervalMs?: number;
}

export class DeployedConfigWatch implements DeployedCaptureCheck {
  readonly #options: DeployedConfigWatchOptions;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: DeployedConfigWatchOptions) {
    this.#options = options;
  }

  async problemsOf(writer: string): Promise<string[]> {
    return (await this.#mismatches()).get(writer) ?? [];
  }

  /** Reads the deployed config every `intervalMs`, calling `onMismatch` for each writer it no longer matches. */
  start(onMismatch: (writer: string, problems: readonly string[]) => void): void {
    const poll = async () => {
      let mismatches: Map<string, string[]>;
      try {
        mismatches = await this.#mismatches();
      } catch (error) {
        // Redis down: the writer loops report the outage; the next poll looks again.
        this.#options.log.debug({ err: error }, 'reading the deployed config failed');
        return;
      }
      if (this.#stopped) return;
      for (const [writer, problems] of mismatches) onMismatch(writer, problems);
    };
    this.#timer = setInterval(() => {
      if (!this.#stopped) this.#polling = this.#polling.then(poll);
    }, this.#options.intervalMs ?? 5000);
    this.#timer.unref();
  }

  /** Stops polling; a read in flight ends when its connection closes (as CaptureFailureWatch's). */
  stop(): void {
    clearInterval(this.#timer);
    this.#stopped = true;
  }

  /** Every writer of the worker's config whose capture some node's deployed config does otherwise. */
  async #mismatches(): Promise<Map<string, string[]>> {
    const { listings, config } = this.#options;
    const replies = await Promise.all(listings().map((listing) => listing(config.name)));
    const found = new Map<string, string[]>();
    for (const reply of replies) {
      const deployed = deployedConfigOf(reply);
      // A config this worker cannot read (another library version) is not judged, as at start-up.
      if (deployed === null) continue;
      for (const [writer, problems] of writerMismatches(config, deployed)) if (!found.has(writer)) found.set(writer, problems);
    }
    return found;
  }
}
