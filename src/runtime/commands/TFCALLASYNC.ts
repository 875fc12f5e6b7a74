/**
 * TFCALLASYNC: TFCALL's form; blocking is allowed outside MULTI/Lua, so async functions run and a function may
 * return a promise that settles later (isBlockAllowed() is true).
 */
import { isParseError, type GearsCommand } from './command-handler.js';
import { executeFunctionCall, parseFunctionCall, type FunctionCallArgs } from './TFCALL.js';

export const TFCALLASYNC: GearsCommand<FunctionCallArgs> = {
  parse: (args) => parseFunctionCall('tfcallasync', args),
  execute(host, args, caller) {
    const parsed = TFCALLASYNC.parse(args, caller);
    if (isParseError(parsed)) return parsed.error;
    return executeFunctionCall(host, parsed, !caller.inTransaction, caller);
  },
};
