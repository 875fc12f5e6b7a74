/**
 * What the TF command handlers need from whoever holds the libraries: the dispatcher and the handlers depend on
 * this interface, never on the LibraryHost that implements it, so commands/ does not reach back into its caller.
 */
import type { CallerContext, GearsCommandName } from '../gears-host.js';
import type { FunctionRunner } from '../library-host/function-runner.js';
import type { LoadedLibraryEntry } from '../library-host/loaded-library.js';

export interface LibraryRegistry {
  /** TFUNCTION LOAD: throws the error text; atomic (a failed REPLACE keeps the old library and its state). */
  load(code: string, config: string | null, replace: boolean, user: string): void;
  /** TFUNCTION DELETE: throws RedisGears' text when there is no such library. */
  delete(name: string): void;
  libraries(): LoadedLibraryEntry[];
  /** NOAUTH or NOPERM text when the caller may not run this command (RedisGears' identity rules), else null. */
  denial(name: GearsCommandName, args: readonly Buffer[], caller: CallerContext): string | null;
  readonly functions: FunctionRunner;
  /** The server is a replica (as last seen): a function without `no-writes` is refused (replica-refusals.ts). */
  readonly isReplica: boolean;
}
