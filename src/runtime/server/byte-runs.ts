/**
 * Pieces of bytes gathered for one socket write. Requests parsed from one chunk of a client's input, and replies
 * framed from one chunk of the server's output, are views of the same memory one after another: such runs are
 * joined into one view without copying, so a pipeline of 16 commands leaves as one write of the bytes received.
 */
export class ByteRuns {
  /** Runs before the current one. */
  #done: Buffer[] = [];
  /** The current run: `#last` extended to `#end` (an offset in its ArrayBuffer). */
  #last: Buffer | null = null;
  #end = 0;
  #bytes = 0;

  /** Bytes added since the last take. */
  get bytes(): number {
    return this.#bytes;
  }

  get empty(): boolean {
    return this.#last === null;
  }

  /** Adds `bytes`, extending the current run when `bytes` continues it in memory. */
  add(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#bytes += bytes.length;
    const last = this.#last;
    if (last !== null && last.buffer === bytes.buffer && this.#end === bytes.byteOffset) {
      this.#end += bytes.length;
      return;
    }
    if (last !== null) this.#done.push(this.#close(last));
    this.#last = bytes;
    this.#end = bytes.byteOffset + bytes.length;
  }

  /** The runs added since the last take, in order; none are kept. */
  take(): Buffer[] {
    const runs = this.#done;
    if (this.#last !== null) runs.push(this.#close(this.#last));
    this.#done = [];
    this.#last = null;
    this.#bytes = 0;
    return runs;
  }

  /** The runs as one buffer: the run itself when there is one, else a copy of them all. */
  takeJoined(): Buffer {
    const bytes = this.#bytes;
    const runs = this.take();
    return runs.length === 1 ? runs[0]! : Buffer.concat(runs, bytes);
  }

  #close(last: Buffer): Buffer {
    const length = this.#end - last.byteOffset;
    return length === last.length ? last : Buffer.from(last.buffer, last.byteOffset, length);
  }
}
