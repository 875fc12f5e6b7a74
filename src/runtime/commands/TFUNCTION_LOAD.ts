/**
 * TFUNCTION LOAD [REPLACE] [CONFIG <json>] <code> (function_load_command.rs): keywords are case-insensitive and
 * read until the first other argument, which is the code; anything after it is ignored. Reply +OK.
 */
import { error, OK } from '../resp/types.js';
import { stringForm } from '../library-host/js-values.js';
import { isParseError, utf8Arg, type GearsCommand } from './command-handler.js';

export interface TfunctionLoadArgs {
  readonly replace: boolean;
  readonly config: string | null;
  readonly code: string;
}

export const TFUNCTION_LOAD: GearsCommand<TfunctionLoadArgs> = {
  parse(args) {
    let replace = false;
    let config: string | null = null;
    let user = false;
    let index = 0;
    let codeArg: Buffer | null = null;
    while (codeArg === null) {
      const arg = args[index++];
      if (arg === undefined) return { error: error('Could not find library payload') };
      const text = utf8Arg(arg);
      if (text === null) {
        codeArg = arg;
        break;
      }
      switch (text.toLowerCase()) {
        case 'replace':
          replace = true;
          break;
        case 'debug':
          break;
        case 'user':
          if (args[index++] === undefined) return { error: error('configuration value was not given') };
          user = true;
          break;
        case 'config': {
          const value = args[index++];
          if (value === undefined) return { error: error('configuration value was not given') };
          const json = utf8Arg(value);
          if (json === null) return { error: error('given configuration value is not a valid string') };
          let parsed: unknown;
          try {
            parsed = JSON.parse(json);
          } catch (failure) {
            return { error: error(`configuration must be a valid json, '${json}', ${jsonProblem(failure)}.`) };
          }
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { error: error('configuration must be a valid json object') };
          config = json;
          break;
        }
        default:
          codeArg = arg;
      }
    }
    const code = utf8Arg(codeArg);
    if (code === null) return { error: error('lib code must a valid string') };
    if (user) return { error: error('Unknown argument user') };
    return { replace, config, code };
  },

  execute(host, args, caller) {
    const parsed = TFUNCTION_LOAD.parse(args, caller);
    if (isParseError(parsed)) return parsed.error;
    try {
      host.load(parsed.code, parsed.config, parsed.replace, caller.user);
      return OK;
    } catch (failure) {
      return error(stringForm(failure));
    }
  },
};

/** serde_json's message differs from V8's; the position-free V8 text is the closest we can give. */
function jsonProblem(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}
