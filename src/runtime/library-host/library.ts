/**
 * One loaded library: its metadata (what TFUNCTION LIST shows and what is persisted), the link to its isolate
 * and what it registered. Registrations live in insertion order; triggers run in that order. The callbacks
 * themselves stay in the isolate: the host knows each by the index the guest gave it.
 */
import type { GuestLink } from './guest-link.js';
import type { KeyspaceTrigger } from './keyspace-trigger.js';
import type { StreamTrigger } from './stream-trigger.js';

export const FUNCTION_FLAGS = { NO_WRITES: 'no-writes', ALLOW_OOM: 'allow-oom', RAW_ARGUMENTS: 'raw-arguments' } as const;
export type FunctionFlag = (typeof FUNCTION_FLAGS)[keyof typeof FUNCTION_FLAGS];

export interface RegisteredFunction {
  readonly name: string;
  /** The guest's index of the callback. */
  readonly index: number;
  /** Registered with registerAsyncFunction: only TFCALLASYNC may call it. */
  readonly isAsync: boolean;
  /** The callback is an `async function` (runs on the background thread with an async client). */
  readonly isCoroutine: boolean;
  readonly flags: ReadonlySet<FunctionFlag>;
  readonly description: string | null;
}

export interface LibraryMetadata {
  readonly name: string;
  readonly engine: string;
  /** As declared in the prologue. */
  readonly apiVersion: string;
  readonly code: string;
  /** The CONFIG JSON exactly as given, or null. */
  readonly config: string | null;
  readonly user: string;
}

export class Library {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly clusterFunctions = new Set<string>();
  readonly keyspaceTriggers = new Map<string, KeyspaceTrigger>();
  readonly streamTriggers = new Map<string, StreamTrigger>();
  /** Text of each callAsync command still waiting for its reply. */
  readonly pendingAsyncCalls = new Set<{ readonly text: string }>();
  /** Background jobs scheduled and not yet run. */
  pendingJobs = 0;
  /** False once deleted or replaced: late background work must not touch Redis for it. */
  active = true;

  constructor(
    readonly metadata: LibraryMetadata,
    readonly link: GuestLink,
  ) {}

  get name(): string {
    return this.metadata.name;
  }
}
