/**
 * Reads what redis-server sends a replica after its PSYNC, enough to know the replication offset of every byte
 * of the command stream (master_repl_offset semantics: the offset of a byte is the master_repl_offset the
 * primary had once that byte was fed to its backlog).
 *
 * - `+FULLRESYNC <replid> <offset>`: the RDB follows, as `$<len>\r\n<payload>` (no CRLF after it) or, diskless,
 *   `$EOF:<40-byte mark>\r\n<payload><mark>`, with `\n` keepalives before it; the stream after it starts at
 *   offset + 1.
 * - `+CONTINUE [<replid>]`: the stream starts at the offset the replica asked for (`PSYNC <replid> <offset>`
 *   names the first byte it wants).
 * - Anything else (an error reply, SYNC's bare RDB) leaves the offsets unknown: the bytes are opaque.
 */

const EOF_MARK_LENGTH = 40;

type Phase =
  | { readonly kind: 'reply' }
  | { readonly kind: 'rdb-head' }
  | { readonly kind: 'rdb-payload'; remaining: number }
  | { readonly kind: 'rdb-eof'; readonly mark: Buffer; tail: Buffer }
  | { readonly kind: 'stream' }
  | { readonly kind: 'opaque' };

/** What one chunk held: bytes before the command stream (reply, RDB), then command-stream bytes. */
export interface StreamChunk {
  readonly preamble: Buffer;
  readonly stream: Buffer;
}

export class ReplicationStream {
  #phase: Phase;
  #line = Buffer.alloc(0);
  /** The offset of the last command-stream byte read; null before the stream starts or when unknown. */
  #offset: number | null = null;
  #startOffset: number | null = null;
  readonly #continueFrom: number | null;

  /** `command` is the replica's SYNC or PSYNC (its words). */
  constructor(command: readonly string[]) {
    const name = command[0]?.toLowerCase();
    this.#phase = name === 'psync' ? { kind: 'reply' } : { kind: 'opaque' };
    const asked = Number(command[2]);
    this.#continueFrom = Number.isSafeInteger(asked) ? asked : null;
  }

  /** The offset of the last command-stream byte read (null: not in the stream, or unknowable). */
  get offset(): number | null {
    return this.#offset;
  }

  /** True once the offsets are known (the stream started, or will start after the RDB). */
  get counted(): boolean {
    return this.#phase.kind !== 'opaque' && this.#phase.kind !== 'reply';
  }

  feed(chunk: Buffer): StreamChunk {
    let at = 0;
    while (at < chunk.length && this.#phase.kind !== 'stream' && this.#phase.kind !== 'opaque') {
      at = this.#step(chunk, at);
    }
    const preamble = chunk.subarray(0, at);
    if (this.#phase.kind !== 'stream') return { preamble: chunk, stream: Buffer.alloc(0) };
    const stream = chunk.subarray(at);
    this.#offset = (this.#offset ?? this.#startOffset!) + stream.length;
    return { preamble, stream };
  }

  /** Consumes preamble bytes from `at`; returns where it stopped. */
  #step(chunk: Buffer, at: number): number {
    const phase = this.#phase;
    switch (phase.kind) {
      case 'reply':
      case 'rdb-head': {
        if (this.#line.length === 0 && chunk[at] === 0x0a) return at + 1; // a keepalive newline
        const end = chunk.indexOf(0x0a, at);
        if (end === -1) {
          this.#line = Buffer.concat([this.#line, chunk.subarray(at)]);
          return chunk.length;
        }
        const line = Buffer.concat([this.#line, chunk.subarray(at, end)]).toString('latin1').replace(/\r$/, '');
        this.#line = Buffer.alloc(0);
        if (phase.kind === 'reply') this.#onReply(line);
        else this.#onRdbHead(line);
        return end + 1;
      }
      case 'rdb-payload': {
        const take = Math.min(phase.remaining, chunk.length - at);
        phase.remaining -= take;
        if (phase.remaining === 0) this.#phase = { kind: 'stream' };
        return at + take;
      }
      case 'rdb-eof': {
        // The mark may straddle chunks: search the last bytes of the previous chunk with this one.
        const window = Buffer.concat([phase.tail, chunk.subarray(at)]);
        const found = window.indexOf(phase.mark);
        if (found === -1) {
          phase.tail = window.subarray(Math.max(0, window.length - EOF_MARK_LENGTH + 1));
          return chunk.length;
        }
        this.#phase = { kind: 'stream' };
        return at + found + EOF_MARK_LENGTH - phase.tail.length;
      }
      default:
        return chunk.length;
    }
  }

  #onReply(line: string): void {
    const words = line.split(' ');
    if (words[0] === '+FULLRESYNC' && Number.isSafeInteger(Number(words[2]))) {
      this.#startOffset = Number(words[2]);
      this.#phase = { kind: 'rdb-head' };
    } else if (words[0] === '+CONTINUE' && this.#continueFrom !== null) {
      this.#startOffset = this.#continueFrom - 1;
      this.#phase = { kind: 'stream' };
    } else {
      this.#phase = { kind: 'opaque' };
    }
  }

  #onRdbHead(line: string): void {
    if (line.startsWith('$EOF:') && line.length === 5 + EOF_MARK_LENGTH) {
      this.#phase = { kind: 'rdb-eof', mark: Buffer.from(line.slice(5), 'latin1'), tail: Buffer.alloc(0) };
      return;
    }
    const length = Number(line.slice(1));
    if (line.startsWith('$') && Number.isSafeInteger(length) && length >= 0) {
      this.#phase = length === 0 ? { kind: 'stream' } : { kind: 'rdb-payload', remaining: length };
    } else {
      this.#phase = { kind: 'opaque' };
    }
  }
}
