/**
 * CLIENT REPLY, as redis-server 7.0 applies it (networking.c and clientCommand), emulated by the runtime: the
 * server keeps replying on the upstream connection (the runtime needs every reply to keep commands in order) and
 * the runtime drops what the server would not have written. The server's three flags:
 *
 * - OFF (CLIENT REPLY OFF): every reply dropped until CLIENT REPLY ON, which clears it and replies OK.
 * - SKIP_NEXT (CLIENT REPLY SKIP, unless OFF): becomes SKIP when the request ends (resetClient).
 * - SKIP: the reply to the next request dropped; cleared when that request ends. An empty request (`*0`, a
 *   blank inline line) ends too, so it uses up a SKIP.
 *
 * Inside MULTI, CLIENT REPLY is queued like any command (its QUEUED follows the flags) and runs inside EXEC, where
 * it changes the flags under the following replies of the same EXEC (execReply). A protocol error's reply is
 * dropped like any other, and the server then never closes the connection: it closes after the reply is written,
 * and there is none.
 */
import { RespFramer } from '../resp/decoder.js';

export type ClientReplyMode = 'on' | 'off' | 'skip';

export class ReplyMode {
  #off = false;
  #skipNext = false;
  #skip = false;

  /** Whether a reply written now is dropped. */
  get muted(): boolean {
    return this.#off || this.#skip;
  }

  /**
   * A command run outside a transaction (`mode`: it is a CLIENT REPLY): whether its reply is dropped. The
   * request ends with it.
   */
  command(mode: ClientReplyMode | null): boolean {
    const muted = mode === null ? this.muted : this.#apply(mode);
    this.endRequest();
    return muted;
  }

  /**
   * RESET: replies on again (clearClientConnectionState clears OFF and SKIP_NEXT; a SKIP already in force still
   * skips RESET's own reply).
   */
  reset(): void {
    this.#off = this.#skipNext = false;
  }

  /** resetClient: after every request, empty ones included. */
  endRequest(): void {
    this.#skip = this.#skipNext;
    this.#skipNext = false;
  }

  /**
   * The bytes the client gets of an EXEC reply (`raw`) whose transaction queued the commands with these
   * CLIENT REPLY modes (null: another command), and the flags after it; the request ends with it. An EXEC that
   * ran nothing (an error, a nil after WATCH) changes nothing.
   */
  execReply(raw: Buffer, modes: readonly (ClientReplyMode | null)[]): Buffer {
    const elements = raw[0] === 0x2a ? arrayElements(raw) : null;
    let out: Buffer[];
    if (elements === null || elements.length !== modes.length) {
      out = this.muted ? [] : [raw];
    } else {
      out = this.muted ? [] : [raw.subarray(0, raw.indexOf(0x0a) + 1)];
      elements.forEach((element, i) => {
        const mode = modes[i] ?? null;
        if (mode === null ? !this.muted : !this.#apply(mode)) out.push(element);
      });
    }
    this.endRequest();
    return Buffer.concat(out);
  }

  /** CLIENT REPLY `mode` runs: whether its own reply (OK for ON, none otherwise) is dropped. */
  #apply(mode: ClientReplyMode): boolean {
    if (mode === 'on') {
      this.#off = this.#skip = false;
      return false;
    }
    if (mode === 'off') this.#off = true;
    else if (!this.#off) this.#skipNext = true;
    return true;
  }
}

/** The frames of an array reply (`*N` then N values), or null for a nil or malformed one. */
function arrayElements(raw: Buffer): Buffer[] | null {
  const headerEnd = raw.indexOf(0x0a);
  const count = Number(raw.subarray(1, headerEnd - 1).toString('latin1'));
  if (!Number.isInteger(count) || count < 0) return null;
  const elements: Buffer[] = [];
  new RespFramer((frame) => elements.push(frame)).push(raw.subarray(headerEnd + 1));
  return elements.length === count ? elements : null;
}
