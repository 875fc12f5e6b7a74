/**
 * The narrow channel between the host (Node) and the guest runtime inside a library's isolate. Only primitives,
 * ArrayBuffers and arrays of them cross it, copied; no object of either realm is reachable from the other.
 *
 * Bytes going into the isolate travel as latin1 strings (one char per byte: a plain copy) up to
 * GUEST_BYTES_AS_BUFFER, as ArrayBuffers from there (see GuestBytes); bytes coming out as strings (UTF-8 encoded
 * by the host) or ArrayBuffers.
 */

/**
 * Bytes handed into the isolate: a latin1 string when short (a primitive, which crosses without a structured
 * clone), an ArrayBuffer from GUEST_BYTES_AS_BUFFER on (one memcpy). The guest makes an ArrayBuffer of a latin1
 * string a byte at a time, ~5-10 ms per MB inside the isolate and under the lock: a captured 1 MB value paid it
 * for its read, its record and the stream trigger's copy of the record.
 */
export type GuestBytes = string | ArrayBuffer;
export const GUEST_BYTES_AS_BUFFER = 16 * 1024;

/** What the host asks the guest to do (the first argument of the guest's dispatch function). */
export const Op = {
  /**
   * (configJson | null, previousStreamPrefixes {name: latin1}, v8Version) → ok or the error: runs the top level
   * COMPILE compiled; then LOADED.
   */
  LOAD: 0,
  /** (index, clientId, allowBlock, args: GuestBytes[], token) → outcome with the reply */
  FUNCTION: 1,
  /** (index, phase, clientId, dataId, event, key: GuestBytes, token) → outcome; clientId is a principal for async callbacks */
  KEYSPACE: 2,
  /** (index, clientId, key: GuestBytes, id 'ms-seq', fields: GuestBytes[] (field, value, …), token) → outcome */
  STREAM: 3,
  /** (jobId) → outcome: a background job the guest scheduled */
  JOB: 4,
  /** (callId, reply: RESP3 as GuestBytes) → outcome: a callAsync reply */
  CALL_REPLY: 5,
  /** (code, filename) → ok or the SyntaxError's text: compiles the library, runs nothing (called without a timeout) */
  COMPILE: 6,
  /** () → registrations, or why the load failed (a rejected completion value): after LOAD's microtasks ran */
  LOADED: 7,
} as const;

/** Keyspace trigger phases. */
export const Phase = { ON_TRIGGER_FIRED: 0, CALLBACK: 1 } as const;

/** An outcome: a value (converted reply), a thrown value's text, or a promise followed under `token`. */
export const Status = { OK: 0, ERROR: 1, PENDING: 2 } as const;
export type GuestOutcome = readonly [0, GuestReply] | readonly [1, string] | readonly [2, number];
/**
 * What the guest's dispatch returns: the outcome, or `null` for [Status.OK, null], the outcome of every trigger
 * that ran to its end. A primitive crosses the boundary without the structured clone an array costs.
 */
export type DispatchResult = GuestOutcome | null;

/**
 * A JS value converted as RedisGears converts a returned value, in a form that survives the copy: scalars as
 * themselves (the host tells int32 numbers from doubles), compounds as tagged arrays.
 */
export type GuestReply = string | number | bigint | boolean | null | ArrayBuffer | GuestCompound;
export type GuestCompound =
  | readonly [typeof Tag.ARRAY, GuestReply[]]
  | readonly [typeof Tag.SET, GuestReply[]]
  | readonly [typeof Tag.MAP, (string | number)[], GuestReply[]]
  | readonly [typeof Tag.STATUS, string]
  | readonly [typeof Tag.VERBATIM, string, string];
export const Tag = { ARRAY: 0, SET: 1, MAP: 2, STATUS: 3, VERBATIM: 4 } as const;

/** What a library registered while loading, as the guest reports it. */
export const Kind = { FUNCTION: 0, ASYNC_FUNCTION: 1, CLUSTER_FUNCTION: 2, KEYSPACE_TRIGGER: 3, STREAM_TRIGGER: 4 } as const;
export type Registration = readonly [
  kind: number,
  name: string,
  index: number,
  isCoroutine: boolean,
  flags: string[],
  description: string | null,
  /** Trigger prefix bytes (latin1), else null. */
  prefix: string | null,
  window: number,
  trim: boolean,
  hasOnTriggerFired: boolean,
];

/**
 * What `call`, `callAsync` and `log` return instead of their result once the lock timeout's deadline has passed
 * (the wall clock, time in the host included): the guest then terminates its own execution (IsolateHooks'
 * `terminate`), as RedisGears' timeout thread would have. See sandbox.ts.
 */
export const STOP = null;

/** Host functions the guest calls (installed as globals named here, removed before library code runs). */
export const HOST_GLOBALS = {
  /** (clientId, argv: (string | ArrayBuffer)[]) → RESP3 reply as GuestBytes (errors included) */
  call: '__rg_call',
  /** (clientId, argv) → callId (a number), or an error text */
  callAsync: '__rg_call_async',
  /** (jobId) → void: run Op.JOB later, under the lock */
  schedule: '__rg_schedule',
  /** (token, status, payload) → void: a followed promise settled */
  settled: '__rg_settled',
  /** (kind, fromId) → id: see ClientKind */
  openClient: '__rg_open_client',
  /** (clientId) → void */
  closeClient: '__rg_close_client',
  /** (level, message) → void */
  log: '__rg_log',
  /** (reason text) → void: a promise of library code was rejected and nobody handled it by the end of a call */
  rejected: '__rg_rejected',
} as const;

/** Where the host leaves native/isolate-hooks' exports (IsolateHooks) for the guest to take. */
export const GUEST_HOOKS = '__rg_hooks';

/** openClient kinds: the principal (db, no-writes, user) of a sync client; a sync client of a principal; the no-writes principal of one. */
export const ClientKind = { PRINCIPAL_OF: 0, SYNC_OF: 1, NO_WRITES_OF: 2 } as const;

/** Where the guest leaves its dispatch function for the host to take. */
export const GUEST_DISPATCH = '__rg_dispatch';

export interface HostChannel {
  call(clientId: number, argv: (string | ArrayBuffer)[]): GuestBytes;
  callAsync(clientId: number, argv: (string | ArrayBuffer)[]): number | string;
  schedule(jobId: number): void;
  settled(token: number, status: number, payload: GuestReply | string): void;
  /** The id, or (SYNC_OF, the client of `block()`) the text of RedisGears' refusal to lock. */
  openClient(kind: number, fromId: number): number | string;
  closeClient(clientId: number): void;
  log(message: string): void;
  rejected(reason: string): void;
}

/** What native/isolate-hooks gives the guest (isolate_hooks.cc). */
export interface IsolateHooks {
  /** From now on V8 reports rejections to `handler`, and microtasks run only at checkpoint(). */
  track(handler: (event: number, promise: Promise<unknown>, reason: unknown) => void): void;
  checkpoint(): void;
  /** Terminates this isolate's execution at its next interrupt check (V8's TerminateExecution). */
  terminate(): void;
  /** Compiles `code` as a classic script (throws its SyntaxError); the function runs it once, returning its completion value. */
  compile(code: string, filename: string): () => unknown;
}

/** V8's PromiseRejectEvent values `track`'s handler gets (the others it ignores). */
export const RejectEvent = { WITHOUT_HANDLER: 0, HANDLER_ADDED: 1 } as const;
