/**
 * TFCALL / TFCALLASYNC (lib.rs function_call_command, v8_function_ctx.rs): argument rules and refusals, sync
 * functions run now with the lock held, coroutines on the background thread, and a returned promise either
 * answers at once (already settled) or blocks the client (TFCALLASYNC outside MULTI only).
 */
import type { CallerContext } from '../gears-host.js';
import { error, type RespValue } from '../resp/types.js';
import { decodeUtf8, jsToReply, realmArrayBuffer, ReplyConversionError } from './js-values.js';
import { errorText, followPromise, invokeLocked, isPromise, type Outcome } from './invocation.js';
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
    const raw = registered.flags.has(FUNCTION_FLAGS.RAW_ARGUMENTS);
    const realm = library.sandbox.realm;
    const jsArgs: unknown[] = [];
    for (const arg of call.args) {
      if (raw) jsArgs.push(realmArrayBuffer(realm, arg));
      else {
        const text = decodeUtf8(arg);
        if (text === null) return error('Can not convert argument to string');
        jsArgs.push(text);
      }
    }
    const noWrites = registered.flags.has(FUNCTION_FLAGS.NO_WRITES);
    if (registered.isCoroutine) {
      return new Promise<RespValue>((resolve) => {
        const answer = (outcome: Outcome) => resolve(toReply(outcome));
        clients.background(
          () => {
            const client = clients.asyncClient({ db: caller.db, noWrites }).client;
            let result: unknown;
            try {
              result = registered.callback(client, ...jsArgs);
            } catch (thrown) {
              return answer({ ok: false, error: errorText(thrown) });
            }
            if (isPromise(result)) {
              library.sandbox.observe(
                result,
                (value) => answer({ ok: true, value }),
                (thrown: unknown) => answer({ ok: false, error: errorText(thrown) }),
              );
            } else answer({ ok: true, value: result });
          },
          (message) => answer({ ok: false, error: message }),
        );
      });
    }
    const handle = clients.syncClient({ db: caller.db, noWrites, allowBlock: call.allowBlock });
    const outcome = invokeLocked(library, () => registered.callback(handle.client, ...jsArgs));
    handle.invalidate();
    if (!(outcome.ok && isPromise(outcome.value))) return toReply(outcome);
    let answerLater: ((reply: RespValue) => void) | null = null;
    const early = followPromise(library, outcome.value, (settled) => answerLater?.(toReply(settled)));
    if (early) return toReply(early);
    if (!call.allowBlock) return error(CANNOT_BLOCK);
    return new Promise<RespValue>((resolve) => {
      answerLater = resolve;
    });
  }
}

function toReply(outcome: Outcome): RespValue {
  if (!outcome.ok) return error(outcome.error);
  try {
    return jsToReply(outcome.value);
  } catch (failure) {
    if (failure instanceof ReplyConversionError) return error(failure.message);
    throw failure;
  }
}
