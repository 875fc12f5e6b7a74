/**
 * Gives memory back after large values went through. The worker's buffers of capture records live outside V8's
 * heap (Buffers), and V8 collects them only when its heap grows: a burst of 1 MB values leaves a few hundred MB
 * of dead Buffers behind, and an idle worker never runs the collection that would free them (measured: 229 MB
 * resident an idle minute after a 300 MB backlog, 92 MB after one full collection). So the worker asks for a
 * collection itself, after every `everyBytes` of records read, and when it goes idle after reading at least
 * `idleBytes` (so a trickle of small writes does not pay a collection per batch).
 *
 * There is no public API for it: the `gc` function is taken from a context created while `--expose-gc` is set,
 * then the flag is reset, so nothing else sees a global `gc`.
 *
 * @internal
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

function collector(): () => void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed !== undefined) collect = exposed;
    else {
      try {
        setFlagsFromString('--expose-gc');
        collect = runInNewContext('gc') as () => void;
      } catch {
        // A Node whose V8 flags are frozen: the byte caps still bound the memory; it is only given back later.
        collect = () => undefined;
      } finally {
        setFlagsFromString('--no-expose-gc');
      }
    }
  }
  return collect;
}

export class HeapRelease {
  readonly #everyBytes: number;
  readonly #idleBytes: number;
  #sinceCollection = 0;
  /**
   * Counted apart from #sinceCollection: a collection during a drain runs while the records of its last part are
   * still being committed, so it cannot free them; only the one at idle can. Counting both from the last
   * collection skipped the idle one whenever a drain's last collection came late in it.
   */
  #sinceIdleCollection = 0;

  constructor(options: { everyBytes: number; idleBytes: number }) {
    this.#everyBytes = options.everyBytes;
    this.#idleBytes = options.idleBytes;
  }

  /** Counts bytes read; collects once `everyBytes` were read since the last collection. */
  read(bytes: number): void {
    this.#sinceCollection += bytes;
    this.#sinceIdleCollection += bytes;
    if (this.#sinceCollection >= this.#everyBytes) this.#collect();
  }

  /** Nothing to do for now: collect what the reads since the last idle left, if they were large enough to matter. */
  idle(): void {
    if (this.#sinceIdleCollection < this.#idleBytes) return;
    this.#sinceIdleCollection = 0;
    this.#collect();
  }

  #collect(): void {
    this.#sinceCollection = 0;
    collector()();
  }
}
