/** TFUNCTION DELETE <library> (function_del_command.rs): +OK, or "library does not exists". */
import { error, OK } from '../resp/types.js';
import { stringForm } from '../library-host/js-values.js';
import { isParseError, utf8Arg, type GearsCommand } from './command-handler.js';

export const TFUNCTION_DELETE: GearsCommand<{ readonly name: string }> = {
  parse(args) {
    if (args.length === 0) return { error: error('function name was not given') };
    const name = utf8Arg(args[0]!);
    if (name === null) return { error: error("Couldn't parse as UTF-8 string") };
    return { name };
  },

  execute(host, args, caller) {
    const parsed = TFUNCTION_DELETE.parse(args, caller);
    if (isParseError(parsed)) return parsed.error;
    try {
      host.delete(parsed.name);
      return OK;
    } catch (failure) {
      return error(stringForm(failure));
    }
  },
};
