/**
 * TFCALL / TFCALLASYNC (lib.rs function_call_command, v8_function_ctx.rs): argument rules and refusals, sync
 * functions run now with the lock held, coroutines on the background thread, and a returned promise either
 * answers at once (already settled) or blocks the client (TFCALLASYNC outside MULTI only).
 */
import type { CallerContext } from '../gears-host.js';
import { error, type RespValue } from '../resp/types.js';
import { Op } from './guest/protocol.js';
import { fromGuest } from './js-values.js';
import { guestBytes } from './guest-bytes.js';
import type { Outcome } from './guest-link.js';
import { FUNCTION_FLAGS, type RegisteredFunction } from './library.js';
import type { LoadedLibraryEntry } from './loaded-library.js';

export interface FunctionCall {
  readonly library: string;
  readonly function: string;
  /** Keys then arguments: JS does not tell them apart. */
  readonly args: readonly Buffer[];
  /** TFCALLASYNC outside MULTI/Lua. */
  readonly allowBlock: boolean;
}

const CANNOT_BLOCK = 'Can not block client for background execution, Blocking is not allow inside multi/exec, Lua, or within another module (RM_Call).';
const ASYNC_VIA_TFCALL =
  'The function is declared as async and was called while blocking was not allowed; note that you cannot invoke async functions from within Lua or MULTI, and you must use TFCALLASYNC instead.';

export class FunctionRunner {
  readonly #lookup: (name: string) => LoadedLibraryEntry | undefined;

  constructor(lookup: (name: string) => LoadedLibraryEntry | undefined) {
    this.#lookup = lookup;
  }

  /** Finds the function or returns the error reply (after the numkeys check done by the caller). */
  find(library: string, fn: string): { entry: LoadedLibraryEntry; registered: RegisteredFunction } | RespValue {
    const entry = this.#lookup(library);
    if (!entry) return error(`Unknown library ${library}`);
    const registered = entry.library.functions.get(fn);
    if (!registered) return error(`Unknown function ${fn}`);
    return { entry, registered };
  }

  run(entry: LoadedLibraryEntry, registered: RegisteredFunction, call: FunctionCall, caller: CallerContext): RespValue | Promise<RespValue> {
    if (registered.isAsync && !call.allowBlock) return error(ASYNC_VIA_TFCALL);
    const { library, clients } = entry;
    const args = call.args.map(guestBytes);
    // A function's calls run as the calling connection's user (§3.6).
    const principal = { db: caller.db, noWrites: registered.flags.has(FUNCTION_FLAGS.NO_WRITES), user: caller.user };
    if (registered.isCoroutine) {
      return new Promise<RespValue>((resolve) => {
        clients.background(
          () => library.link.run(Op.FUNCTION, [registered.index, clients.principal(principal), call.allowBlock, args], (outcome) => resolve(toReply(outcome))),
          (message) => resolve(error(message)),
        );
      });
    }
    let early: RespValue | null = null;
    let answerLater: ((reply: RespValue) => void) | null = null;
    let returned = false;
    const clientId = clients.openSync(principal);
    library.link.run(Op.FUNCTION, [registered.index, clientId, call.allowBlock, args], (outcome) => {
      if (returned) answerLater?.(toReply(outcome));
      else early = toReply(outcome);
    });
    returned = true;
    clients.close(clientId);
    if (early) return early;
    if (!call.allowBlock) return error(CANNOT_BLOCK);
    return new Promise<RespValue>((resolve) => {
      answerLater = resolve;
    });
  }
}

function toReply(outcome: Outcome): RespValue {
  return outcome.ok ? fromGuest(outcome.value) : error(outcome.error);
}
