/**
 * Client requests read as redis-server reads them (networking.c, Redis 7.0: processMultibulkBuffer and
 * processInlineBuffer): a request starting with `*` is a multibulk of `$` bulks, anything else an inline line
 * split by sdssplitargs. The same limits, the same error texts, and the same requests ignored (`*0`, `*-10`,
 * blank lines), so that the runtime answers and closes exactly where the server would, and never forwards bytes
 * the server would read differently.
 *
 * Arguments are views of the received bytes (no copy); `raw` is a multibulk request's exact bytes, forwarded as
 * they are, and an inline request's arguments encoded as a multibulk: redis-server would read an inline line over
 * 64 KB its own way (it refuses one once more than 64 KB of it without the newline are in its buffer, which depends
 * on how its reads fall), and refuse, and close, a line the runtime read whole and accepted.
 */
import { encodeCommand } from './encoder.js';
import { splitInlineArgs } from './inline-args.js';

export interface ClientRequest {
  readonly args: Buffer[];
  readonly raw: Buffer;
}

export interface RequestLimits {
  /** redis-server's `proto-max-bulk-len`. */
  readonly maxBulkLength: number;
  /** redis-server's `client-query-buffer-limit`: a request still incomplete beyond it closes the connection. */
  readonly maxQueryBuffer: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxBulkLength: 512 * 1024 * 1024, maxQueryBuffer: 1024 * 1024 * 1024 };

export interface RequestParserEvents {
  onRequest(request: ClientRequest): void;
  /**
   * A request with no command (`*0`, `*-10`, a blank inline line): no reply, but redis-server ends it like any
   * request (resetClient), which uses up a CLIENT REPLY SKIP.
   */
  onEmptyRequest?(): void;
  /** Redis's reply text ("Protocol error: ..."); nothing more is parsed afterwards. */
  onProtocolError(message: string): void;
  /** The query buffer limit was passed: redis-server closes such a client without a reply. */
  onQueryBufferOverflow(): void;
}

/** A client that must authenticate and has not is refused more arguments, or longer ones (authRequired()). */
const UNAUTHENTICATED_MAX_ARGS = 10;
const UNAUTHENTICATED_MAX_BULK = 16384;
/** PROTO_INLINE_MAX_SIZE: an inline line, or a `*`/`$` count line, longer than this is refused. */
const INLINE_MAX = 64 * 1024;
const INT_MAX = 2 ** 31 - 1;
/** A bulk needing more than this many more bytes is collected chunk by chunk, not re-concatenated per chunk. */
const LARGE_BULK = 256 * 1024;
const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);

export class RequestParser {
  readonly #events: RequestParserEvents;
  readonly #limits: () => RequestLimits;
  readonly #unauthenticated: () => boolean;
  #buffer: Buffer = EMPTY;
  /** Bulks still to read in the current multibulk (0: at a request boundary). */
  #remaining = 0;
  /** Length of the bulk being read; -1 before its `$` line. */
  #bulkLength = -1;
  #args: Buffer[] = [];
  /** Bytes of the current request that came in earlier buffers. */
  #rawParts: Buffer[] = [];
  #rawPartsBytes = 0;
  /** While > 0: the bytes the buffer must hold before parsing is worth resuming (a large bulk arriving). */
  #needed = 0;
  #waiting: Buffer[] = [];
  #waitingBytes = 0;
  #failed = false;

  /** `unauthenticated`: the client must authenticate and has not (asked only of a request past those limits). */
  constructor(events: RequestParserEvents, limits: () => RequestLimits = () => DEFAULT_REQUEST_LIMITS, unauthenticated: () => boolean = () => false) {
    this.#events = events;
    this.#limits = limits;
    this.#unauthenticated = unauthenticated;
  }

  push(chunk: Buffer): void {
    if (this.#failed) return;
    if (this.#needed > 0) {
      this.#waiting.push(chunk);
      this.#waitingBytes += chunk.length;
      if (this.#overflows(this.#waitingBytes)) return;
      if (this.#waitingBytes < this.#needed) return;
      this.#buffer = Buffer.concat(this.#waiting, this.#waitingBytes);
      this.#waiting = [];
      this.#waitingBytes = 0;
      this.#needed = 0;
    } else {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    }
    this.#parse();
  }

  #parse(): void {
    const buffer = this.#buffer;
    let start = 0; // where the current request's bytes in this buffer begin
    let offset = 0;
    while (offset < buffer.length) {
      if (this.#remaining === 0) {
        start = offset;
        if (buffer[offset] !== 0x2a) {
          const end = this.#inline(buffer, offset);
          if (end < 0) break;
          offset = start = end;
          continue;
        }
        const cr = strchr(buffer, offset, CR);
        if (cr < 0) {
          if (buffer.length - offset > INLINE_MAX) return this.#fail('Protocol error: too big mbulk count string');
          break;
        }
        if (cr + 1 >= buffer.length) break;
        const count = parseLongLong(buffer, offset + 1, cr);
        if (count === null || count > INT_MAX) return this.#fail('Protocol error: invalid multibulk length');
        if (count > UNAUTHENTICATED_MAX_ARGS && this.#unauthenticated()) return this.#fail('Protocol error: unauthenticated multibulk length');
        offset = cr + 2;
        if (count <= 0) {
          start = offset; // redis-server ignores it: no command, no reply
          this.#events.onEmptyRequest?.();
          if (this.#failed) return;
          continue;
        }
        this.#remaining = count;
        this.#args = [];
      }
      while (this.#remaining > 0) {
        if (this.#bulkLength < 0) {
          const cr = strchr(buffer, offset, CR);
          if (cr < 0) {
            if (buffer.length - offset > INLINE_MAX) return this.#fail('Protocol error: too big bulk count string');
            break;
          }
          if (cr + 1 >= buffer.length) break;
          if (buffer[offset] !== 0x24) return this.#fail(`Protocol error: expected '$', got '${String.fromCharCode(buffer[offset]!)}'`);
          const length = parseLongLong(buffer, offset + 1, cr);
          if (length === null || length < 0 || length > this.#limits().maxBulkLength) return this.#fail('Protocol error: invalid bulk length');
          if (length > UNAUTHENTICATED_MAX_BULK && this.#unauthenticated()) return this.#fail('Protocol error: unauthenticated bulk length');
          this.#bulkLength = length;
          offset = cr + 2;
        }
        if (buffer.length - offset < this.#bulkLength + 2) {
          const missing = this.#bulkLength + 2 - (buffer.length - offset);
          if (missing > LARGE_BULK) this.#needed = this.#bulkLength + 2;
          break;
        }
        this.#args.push(buffer.subarray(offset, offset + this.#bulkLength));
        offset += this.#bulkLength + 2; // like redis-server, the two bytes after a bulk are not checked
        this.#bulkLength = -1;
        this.#remaining--;
      }
      if (this.#remaining > 0) break;
      const tail = buffer.subarray(start, offset);
      const raw = this.#rawParts.length === 0 ? tail : Buffer.concat([...this.#rawParts, tail]);
      this.#rawParts = [];
      this.#rawPartsBytes = 0;
      const args = this.#args;
      this.#args = [];
      start = offset;
      this.#events.onRequest({ args, raw });
      if (this.#failed) return;
    }
    this.#keepUnparsed(buffer, start, offset);
  }

  /** One inline line at `offset`: its end, or -1 when the line is not complete yet. */
  #inline(buffer: Buffer, offset: number): number {
    const lf = strchr(buffer, offset, LF);
    if (lf < 0) {
      if (buffer.length - offset > INLINE_MAX) this.#fail('Protocol error: too big inline request');
      return -1;
    }
    const lineEnd = lf > offset && buffer[lf - 1] === CR ? lf - 1 : lf;
    const args = splitInlineArgs(buffer.subarray(offset, lineEnd));
    if (args === null) {
      this.#fail('Protocol error: unbalanced quotes in request');
      return -1;
    }
    if (args.length > 0) this.#events.onRequest({ args, raw: encodeCommand(args) });
    else this.#events.onEmptyRequest?.();
    return this.#failed ? -1 : lf + 1;
  }

  /** Keeps what is not parsed yet: the bytes of a request in progress move to #rawParts, the rest waits. */
  #keepUnparsed(buffer: Buffer, start: number, offset: number): void {
    if (this.#failed) return;
    if (this.#remaining > 0 && offset > start) {
      this.#rawParts.push(buffer.subarray(start, offset));
      this.#rawPartsBytes += offset - start;
    }
    const rest = this.#remaining > 0 ? buffer.subarray(offset) : buffer.subarray(start);
    this.#buffer = rest.length === 0 ? EMPTY : rest;
    if (this.#overflows(0)) return;
    if (this.#needed > 0) {
      this.#waiting = [this.#buffer];
      this.#waitingBytes = this.#buffer.length;
      this.#buffer = EMPTY;
    }
  }

  #overflows(extra: number): boolean {
    if (this.#rawPartsBytes + this.#buffer.length + extra <= this.#limits().maxQueryBuffer) return false;
    this.#failed = true;
    this.#release();
    this.#events.onQueryBufferOverflow();
    return true;
  }

  #fail(message: string): void {
    this.#failed = true;
    this.#release();
    this.#events.onProtocolError(message);
  }

  #release(): void {
    this.#buffer = EMPTY;
    this.#rawParts = [];
    this.#waiting = [];
    this.#args = [];
  }
}

/**
 * Where redis-server finds the end of an inline line or a `*`/`$` count line: strchr on its query buffer, which
 * stops at a NUL. So a NUL before the line's end leaves it waiting for more bytes (until the 64 KB limit), as if
 * the line had not ended: the position of `byte` at or after `from`, or -1 when there is none or a NUL comes first.
 */
function strchr(buffer: Buffer, from: number, byte: number): number {
  const at = buffer.indexOf(byte, from);
  return at < 0 || buffer.subarray(from, at).indexOf(0) >= 0 ? -1 : at;
}

/**
 * string2ll: an optional `-`, then digits without a leading zero (`0` alone is fine); null when the text is not
 * such a number. Numbers beyond 2^53 are not exact, but every limit they are compared with is far below.
 */
function parseLongLong(buffer: Buffer, from: number, to: number): number | null {
  if (from >= to) return null;
  let i = from;
  const negative = buffer[i] === 0x2d;
  if (negative) i++;
  if (i >= to) return null;
  if (buffer[i] === 0x30) return to - i === 1 && !negative ? 0 : null;
  let n = 0;
  for (; i < to; i++) {
    const digit = buffer[i]! - 0x30;
    if (digit < 0 || digit > 9) return null;
    n = n * 10 + digit;
  }
  if (to - from > 20) return null; // beyond a long long
  return negative ? -n : n;
}
