import { LibraryFunction } from '../../src/shared/protocol.js';
import { expectArgumentCount } from './function-arguments.js';

/**
 * TFCALL <lib>.version 0   (no-writes)
 *
 * - keys: none; args: none
 * - reply: the library version (bulk string), the package version it was built from; `writebehind status`
 *   compares it with the CLI's
 * - errors: "ERR version: ..." when given keys or arguments
 */
export function registerVersionFunction(version: string): void {
  redis.registerFunction(
    LibraryFunction.version,
    (_client, ...args) => {
      expectArgumentCount(LibraryFunction.version, args, []);
      return version;
    },
    { description: 'the library version', flags: [redis.functionFlags.NO_WRITES] },
  );
}
