/**
 * Compiles and evaluates a library, as RedisGears' TFUNCTION LOAD does (function_load_command.rs,
 * v8_backend.rs compile_library): prologue, name check, a fresh isolate, compile (once, in that isolate,
 * untimed), API version, then the guest runs the compiled top-level code under the lock timeout with the `redis` global,
 * and reports what was registered; a library that registered nothing is refused. Every failure is thrown as the
 * exact error text of the reply.
 */
import { Kind, Op, type Registration } from './guest/protocol.js';
import { checkApiVersion, nameProblem, parsePrologue } from './prologue.js';
import { Library, type FunctionFlag, type LibraryMetadata } from './library.js';
import { KeyspaceTrigger } from './keyspace-trigger.js';
import { StreamTrigger } from './stream-trigger.js';
import { LibraryClients } from './clients.js';
import { GuestLink, PENDING, type Outcome } from './guest-link.js';
import type { HostServices } from './host-services.js';

export interface LoadRequest {
  readonly code: string;
  readonly config: string | null;
  readonly user: string;
  /** The lock timeout of the library's calls. */
  readonly timeoutMs: number;
  /** The lock timeout of its top-level code (longer when libraries are restored at start). */
  readonly loadTimeoutMs: number;
  /** v8-maxmemory of the library's isolate, in MB. */
  readonly memoryLimitMb: number;
  /** The library this one replaces (REPLACE): same-named triggers keep their state. */
  readonly previous: Library | null;
  /** A library of this name exists and REPLACE was not given: refused after compiling, before running. */
  readonly rejectExisting: boolean;
}

export interface LoadedLibrary {
  readonly library: Library;
  readonly clients: LibraryClients;
}

/** Checks the prologue and the library name only (what fails before anything is compiled). */
export function readMetadata(code: string, config: string | null, user: string): LibraryMetadata {
  const prologue = parsePrologue(code);
  const problem = nameProblem(prologue.name);
  if (problem !== null) throw `Unallowed library name '${prologue.name}', ${problem}.`;
  if (prologue.engine !== 'js') throw `Unknown backend ${prologue.engine}`;
  return { name: prologue.name, engine: prologue.engine, apiVersion: prologue.apiVersion, code, config, user };
}

export function loadLibrary(request: LoadRequest, services: HostServices): LoadedLibrary {
  const metadata = readMetadata(request.code, request.config, request.user);
  let library: Library | null = null;
  const clients = new LibraryClients(() => library!, services);
  const link = new GuestLink({
    timeoutMs: request.timeoutMs,
    memoryLimitMb: request.memoryLimitMb,
    channel: clients,
    onUnhandledRejection: (reason) => services.log.warn({ library: metadata.name, reason }, 'unhandled promise rejection in library code'),
    onCatastrophicError: (message) => services.log.fatal({ library: metadata.name, message }, 'V8 lost control of the library\'s isolate; restart the runtime'),
  });
  try {
    try {
      // RedisGears compiles the library before its lock clock starts (v8_backend.rs compile_library; load_library
      // then runs the script under the lock): compiled once, in the library's isolate, untimed.
      link.compile(request.code, `${metadata.name}.js`);
      checkApiVersion(metadata.apiVersion);
    } catch (error) {
      throw `Failed to compile library: ${String(error)}`;
    }
    if (request.rejectExisting) throw `Library ${metadata.name} already exists.`;
    library = new Library(metadata, link);
    const previousPrefixes: Record<string, string> = {};
    for (const [name, trigger] of request.previous?.streamTriggers ?? []) previousPrefixes[name] = trigger.prefix.toString('latin1');
    link.timeoutMs = request.loadTimeoutMs;
    const ran = settledNow(link.invoke(Op.LOAD, request.config, previousPrefixes, process.versions.v8));
    // The second call ends the load after the microtasks of the first: a rejected completion value fails it.
    const finished = ran.ok ? settledNow(link.invoke(Op.LOADED)) : ran;
    link.timeoutMs = request.timeoutMs;
    if (!finished.ok) throw `Failed loading library: ${finished.error}.`;
    register(library, finished.value as unknown as Registration[], request.previous);
    if (library.functions.size === 0 && library.keyspaceTriggers.size === 0 && library.streamTriggers.size === 0) {
      throw 'Neither function nor other registrations were found.';
    }
    return { library, clients };
  } catch (error) {
    if (library) library.active = false;
    link.dispose();
    throw error;
  }
}

function settledNow(outcome: Outcome | typeof PENDING): Outcome {
  return outcome === PENDING ? { ok: false, error: 'the load did not finish' } : outcome;
}

/** Records what the guest reports the library registered, keeping the state of same-named triggers it replaces. */
function register(library: Library, registrations: readonly Registration[], previous: Library | null): void {
  for (const [kind, name, index, isCoroutine, flags, description, prefix, window, trim, hasOnTriggerFired] of registrations) {
    const prefixBytes = Buffer.from(prefix ?? '', 'latin1');
    if (kind === Kind.FUNCTION || kind === Kind.ASYNC_FUNCTION) {
      library.functions.set(name, {
        name, index, isAsync: kind === Kind.ASYNC_FUNCTION, isCoroutine, flags: new Set(flags as FunctionFlag[]), description,
      });
    } else if (kind === Kind.CLUSTER_FUNCTION) {
      library.clusterFunctions.add(name);
    } else if (kind === Kind.KEYSPACE_TRIGGER) {
      const old = previous?.keyspaceTriggers.get(name);
      library.keyspaceTriggers.set(name, new KeyspaceTrigger(name, prefixBytes, index, isCoroutine, hasOnTriggerFired, description, old?.stats));
    } else if (kind === Kind.STREAM_TRIGGER) {
      const old = previous?.streamTriggers.get(name);
      library.streamTriggers.set(name, new StreamTrigger(name, prefixBytes, index, isCoroutine, window, trim, description, old?.streams));
    }
  }
}
