/**
 * The running worker's watch on the deployed config: a redeploy (`writebehind deploy`, `TFUNCTION LOAD REPLACE
 * CONFIG`) under it that changes a writer's capture (deployed-config.ts says what counts) must stop that writer,
 * not leave it writing records of the new config with its old one. Two ways notice it:
 *
 * - every batch the library cuts carries its writer's capture stamp (src/shared/capture-config.ts); a writer
 *   loop that meets another stamp than its own asks `problemsOf` before writing that batch: exact, since every
 *   record captured after the redeploy is in a batch the new library cut;
 * - at every read of the library's listing (library-listing-poll.ts: one `TFUNCTION LIST LIBRARY` per node every
 *   5 s, shared with the capture-failure watch) this watch judges the deployed config, for a
 *   writer with no batch to show it (idle, or its writer gone from the library) and for batches of a library
 *   that stamps none.
 *
 * A stamp that differs while the deployed config still matches is a backlog cut under an earlier deployment
 * (the worker was restarted with the new config, as it should be): it is written, as before stamps.
 *
 * Primaries whose configs disagree are a deploy under way on a cluster (it loads primary by primary): not judged
 * until they agree, for up to DEPLOY_SETTLE_MS (deployed-config.ts). Meanwhile the poll stops nothing, and a
 * batch of another stamp is not written: problemsOf throws, and the loop tries the batch again later.
 */
import type { WriteBehindConfig } from '../shared/config.js';
import { RedisCommandError } from '../shared/errors.js';
import { DEPLOY_SETTLE_MS, listedMismatches, listingsDisagree } from './deployed-config.js';
import type { LibraryListingPoll } from './library-listing-poll.js';

/** What a writer loop asks about a batch of another stamp than its own. */
export interface DeployedCaptureCheck {
  /**
   * How the deployed library now captures `writer` otherwise than this worker's config (`writers[i].<field>: …`),
   * read now from every node; empty when it agrees, or when no node shows a config this worker can read. Throws
   * when Redis does not answer (the loop retries).
   */
  problemsOf(writer: string): Promise<string[]>;
}

export class DeployedConfigWatch implements DeployedCaptureCheck {
  readonly #poll: LibraryListingPoll;
  readonly #config: WriteBehindConfig;
  readonly #settleMs: number;
  /** Since when the primaries have shown configs that disagree (a deploy under way), if they do. */
  #disagreeingSince: number | undefined;

  /**
   * `poll` reads the deployed library's listing (library-listing-poll.ts), every 5 s in the worker; `settleMs`
   * (DEPLOY_SETTLE_MS by default) is how long primaries that disagree are taken for a deploy under way.
   */
  constructor(poll: LibraryListingPoll, config: WriteBehindConfig, settleMs = DEPLOY_SETTLE_MS) {
    this.#poll = poll;
    this.#config = config;
    this.#settleMs = settleMs;
  }

  async problemsOf(writer: string): Promise<string[]> {
    const replies = await this.#poll.read();
    if (!this.#settled(replies)) {
      throw new RedisCommandError(`library '${this.#config.name}' shows configs that capture differently on the primaries of the cluster (a deploy under way): `
        + `batches of another config than this worker's wait until every primary shows the same one (at most ${this.#settleMs / 1000} s)`, { context: { library: this.#config.name, writer } });
    }
    return listedMismatches(this.#config, replies).get(writer) ?? [];
  }

  /** At every read of the poll, calls `onMismatch` for each writer the deployed config no longer matches. */
  watch(onMismatch: (writer: string, problems: readonly string[]) => void): void {
    this.#poll.onRead((replies) => {
      if (!this.#settled(replies)) return;
      for (const [writer, problems] of listedMismatches(this.#config, replies)) onMismatch(writer, problems);
    });
  }

  /** Whether `replies` may be judged: the primaries agree, or have disagreed for `settleMs` already. */
  #settled(replies: readonly unknown[]): boolean {
    if (!listingsDisagree(replies)) {
      this.#disagreeingSince = undefined;
      return true;
    }
    this.#disagreeingSince ??= Date.now();
    return Date.now() - this.#disagreeingSince >= this.#settleMs;
  }
}
