/**
 * Types for the RedisGears 2.x JavaScript API (api_version 1.0/1.1), as RedisGears 2.0.11–2.0.23 implements it.
 *
 * No `@redis/gears-*` package is published on npm, so the project declares the API itself. These types follow
 * the sources, not the upstream `gears-api.d.ts`, where the two disagree (see docs/redisgears2-api-notes.md):
 * option objects are optional, flags are plain strings, stream ids are BigInt pairs, keys and record values can be
 * null, `callAsync` returns a Promise, `v8Version`/`apiVersion` are functions, and `config`/`functionFlags` exist.
 *
 * Only types live here: the library must never import a runtime shim, because the bundle is a classic script.
 */

export {};

declare global {
  /** A value the server can return: RESP3 converted to JS (integers are BigInt, maps are objects, sets are Set). */
  type GearsReply =
    | string
    | bigint
    | number
    | boolean
    | null
    | ArrayBuffer
    | String
    | GearsReply[]
    | Set<GearsReply>
    | { [field: string]: GearsReply };

  /** Arguments to `call`: numbers and BigInts are rejected ("Can not convert value into bytes buffer"). */
  type GearsArgument = string | String | ArrayBuffer;

  /** The client handed to functions, sync triggers, `block()` sections and onTriggerFired. */
  interface GearsClient {
    /** Runs a command (RESP3, script mode); a Redis error is thrown as a plain string such as "ERR ...". */
    call(command: string, ...args: GearsArgument[]): GearsReply;
    /** Like `call`, but bulk strings come back as ArrayBuffers. */
    callRaw(command: string, ...args: GearsArgument[]): GearsReply;
    /** May block (BLPOP...); the command shows in TFUNCTION LIST `pending_async_calls` until it returns. */
    callAsync(command: string, ...args: GearsArgument[]): Promise<GearsReply>;
    callAsyncRaw(command: string, ...args: GearsArgument[]): Promise<GearsReply>;
    /** True under TFCALLASYNC outside MULTI/Lua, false under TFCALL. */
    isBlockAllowed(): boolean;
    /** Runs `fn` on the library's background thread; `fn` must be an `async function`. */
    executeAsync<T>(fn: (client: GearsAsyncClient) => Promise<T>): Promise<T>;
  }

  /** The client of coroutines (async functions, async triggers, executeAsync). */
  interface GearsAsyncClient {
    /** Locks Redis and runs `fn` synchronously; writes inside are replicated as MULTI/EXEC. */
    block<T>(fn: (client: GearsClient) => T): T;
    runOnKey(key: string, remoteFunction: string, ...args: unknown[]): Promise<unknown>;
    runOnShards(remoteFunction: string, ...args: unknown[]): Promise<[unknown[], unknown[]]>;
  }

  interface GearsFunctionOptions {
    description?: string;
    /** Values of `redis.functionFlags`. */
    flags?: string[];
  }

  interface GearsKeySpaceTriggerOptions {
    description?: string;
    /** Runs inside the notification with a read-only client; it must not be an async function. */
    onTriggerFired?: (client: GearsClient, data: GearsKeySpaceEvent) => void;
  }

  interface GearsStreamTriggerOptions {
    description?: string;
    /** Records in flight per stream (default 1). */
    window?: number;
    /** Trim the stream to the slowest consumer once records are processed (default false). */
    isStreamTrimmed?: boolean;
  }

  interface GearsKeySpaceEvent {
    /** Redis keyspace event name: hset, del, expired, rename_from, keymiss, ... */
    event: string;
    /** null when the key is not valid UTF-8. */
    key: string | null;
    key_raw: ArrayBuffer;
    [extra: string]: unknown;
  }

  interface GearsStreamRecord {
    /** [ms, seq] as BigInts. */
    id: [bigint, bigint];
    stream_name: string | null;
    stream_name_raw: ArrayBuffer;
    record: [string | null, string | null][];
    record_raw: [ArrayBuffer, ArrayBuffer][];
  }

  interface GearsFunctionFlags {
    readonly NO_WRITES: 'no-writes';
    readonly ALLOW_OOM: 'allow-oom';
    readonly RAW_ARGUMENTS: 'raw-arguments';
  }

  interface GearsRedis {
    registerFunction(
      name: string,
      fn: (client: GearsClient, ...args: string[]) => unknown,
      options?: GearsFunctionOptions,
    ): void;
    registerAsyncFunction(
      name: string,
      fn: (client: GearsAsyncClient | GearsClient, ...args: string[]) => unknown,
      options?: GearsFunctionOptions,
    ): void;
    registerKeySpaceTrigger(
      name: string,
      prefix: string | ArrayBuffer,
      fn: (client: GearsClient, data: GearsKeySpaceEvent) => unknown,
      options?: GearsKeySpaceTriggerOptions,
    ): void;
    registerStreamTrigger(
      name: string,
      prefix: string | ArrayBuffer,
      fn: (client: GearsClient, data: GearsStreamRecord) => unknown,
      options?: GearsStreamTriggerOptions,
    ): void;
    registerClusterFunction(name: string, fn: (client: GearsAsyncClient, ...args: unknown[]) => Promise<unknown>): void;
    /** Writes to the Redis log with the `<redisgears_2>` prefix; `msg` must be a string. */
    log(msg: string): void;
    /** The CONFIG JSON given to TFUNCTION LOAD, parsed; `{}` when none was given. */
    readonly config: Record<string, unknown>;
    readonly functionFlags: GearsFunctionFlags;
    v8Version(): string;
    apiVersion(): string;
  }

  const redis: GearsRedis;
}
