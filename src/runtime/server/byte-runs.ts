/**
 * Pieces of bytes gathered for one socket write. Requests parsed from one chunk of a client's input, and replies
 * framed from one chunk of the server's output, are views of the same memory one after another: such runs are
 * joined into one view without copying, so a pipeline of 16 commands leaves as one write of the bytes received.
 */

/** Appends `bytes` to `runs`, extending the last run when `bytes` continues it in memory. */
export function appendRun(runs: Buffer[], bytes: Buffer): void {
  const last = runs.at(-1);
  if (last !== undefined && last.buffer === bytes.buffer && last.byteOffset + last.length === bytes.byteOffset) {
    runs[runs.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + bytes.length);
  } else if (bytes.length > 0) {
    runs.push(bytes);
  }
}

/** The runs as one buffer: the run itself when there is one, else a copy of them all. */
export function joinRuns(runs: readonly Buffer[]): Buffer {
  return runs.length === 1 ? runs[0]! : Buffer.concat(runs);
}
