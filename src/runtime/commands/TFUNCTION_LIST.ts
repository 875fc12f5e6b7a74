/**
 * TFUNCTION LIST [WITHCODE] [LIBRARY <name>] [v|vv|vvv|VERBOSE…] (function_list_command.rs): one map per
 * library, keys in alphabetical order (RESP2 gets flat arrays), details by additive verbosity.
 */
import { array, blob, boolean, error, integer, mapOf, NULL, type RespValue } from '../resp/types.js';
import { FUNCTION_FLAGS } from '../library-host/library.js';
import type { LoadedLibraryEntry } from '../library-host/loaded-library.js';
import { isParseError, utf8Arg, type GearsCommand } from './command-handler.js';

export interface TfunctionListArgs {
  readonly withCode: boolean;
  readonly library: string | null;
  readonly verbosity: number;
}

export const TFUNCTION_LIST: GearsCommand<TfunctionListArgs> = {
  parse(args) {
    let withCode = false;
    let library: string | null = null;
    let verbosity = 0;
    for (let i = 0; i < args.length; i++) {
      const text = utf8Arg(args[i]!);
      if (text === null) return { error: error('Binary option is not allowed') };
      const option = text.toLowerCase();
      switch (option) {
        case 'withcode':
          withCode = true;
          break;
        case 'verbose':
        case 'v':
          verbosity += 1;
          break;
        case 'vv':
          verbosity += 2;
          break;
        case 'vvv':
          verbosity += 3;
          break;
        case 'library': {
          const name = args[++i];
          if (name === undefined) return { error: error('Library name was not given') };
          library = utf8Arg(name);
          if (library === null) return { error: error('Library name is not a string') };
          break;
        }
        default:
          return { error: error(`Unknown option '${option}'`) };
      }
    }
    return { withCode, library, verbosity };
  },

  execute(host, args, caller) {
    const parsed = TFUNCTION_LIST.parse(args, caller);
    if (isParseError(parsed)) return parsed.error;
    return array(host.libraries().filter((e) => parsed.library === null || e.library.name === parsed.library).map((e) => describe(e, parsed)));
  },
};

const nullable = (value: string | null): RespValue => (value === null ? NULL : blob(value));

/** A map with its keys sorted, as the BTreeMap-derived replies of RedisGears. */
function sortedMap(entries: [string, RespValue][]): RespValue {
  return mapOf(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function describe({ library }: LoadedLibraryEntry, options: TfunctionListArgs): RespValue {
  const { metadata } = library;
  const verbose = options.verbosity;
  const functions = [...library.functions.values()].map((fn) =>
    verbose === 0
      ? blob(fn.name)
      : sortedMap([
          ['name', blob(fn.name)],
          ['flags', array([FUNCTION_FLAGS.NO_WRITES, FUNCTION_FLAGS.ALLOW_OOM, FUNCTION_FLAGS.RAW_ARGUMENTS].filter((f) => fn.flags.has(f)).map((f) => blob(f)))],
          ['is_async', boolean(fn.isAsync)],
          ['description', nullable(fn.description)],
        ]),
  );
  const keyspaceTriggers = [...library.keyspaceTriggers.values()].map((t) =>
    verbose === 0
      ? blob(t.name)
      : sortedMap([
          ['name', blob(t.name)],
          ['description', nullable(t.description)],
          ['num_trigger', integer(t.stats.numTrigger)],
          ['num_success', integer(t.stats.numSuccess)],
          ['num_failed', integer(t.stats.numFailed)],
          ['num_finished', integer(t.stats.numFinished)],
          ['last_error', nullable(t.stats.lastError)],
          ['last_execution_time', integer(t.stats.lastExecutionTime)],
          ['total_execution_time', integer(t.stats.totalExecutionTime)],
        ]),
  );
  const streamTriggers = [...library.streamTriggers.values()].map((t) => {
    if (verbose === 0) return blob(t.name);
    const entries: [string, RespValue][] = [
      ['name', blob(t.name)],
      ['prefix', blob(t.prefix)],
      ['window', integer(t.window)],
      ['trim', boolean(t.trim)],
      ['description', nullable(t.description)],
    ];
    if (verbose >= 2) {
      entries.push([
        'streams',
        array(
          [...t.streams.values()].map((s) =>
            sortedMap([
              ['name', blob(s.key)],
              ['last_processed_time', integer(s.lastProcessedTime)],
              ['total_processed_time', integer(s.totalProcessedTime)],
              ['last_lag', integer(s.lastLag)],
              ['total_lag', integer(s.totalLag)],
              ['total_record_processed', integer(s.recordsProcessed)],
              ['pending_ids', array(s.pending.map((id) => blob(id)))],
              ['id_to_read_from', s.lastReadId === null ? NULL : blob(s.lastReadId)],
              ['last_error', nullable(s.lastError)],
            ]),
          ),
        ),
      ]);
    }
    return sortedMap(entries);
  });
  const entries: [string, RespValue][] = [
    ['engine', blob(metadata.engine)],
    ['api_version', blob(metadata.apiVersion)],
    ['name', blob(metadata.name)],
    ['user', blob(metadata.user)],
    ['configuration', nullable(metadata.config)],
    ['pending_jobs', integer(library.pendingJobs)],
    ['functions', array(functions)],
    ['cluster_functions', array([...library.clusterFunctions.keys()].map((n) => blob(n)))],
    ['keyspace_triggers', array(keyspaceTriggers)],
    ['stream_triggers', array(streamTriggers)],
    ['pending_async_calls', array([...library.pendingAsyncCalls].map((p) => blob(p.text)))],
  ];
  if (options.withCode) entries.push(['code', blob(metadata.code)]);
  return sortedMap(entries);
}
