/** Stream ids as the library handles them: "ms-seq" strings, compared numerically (see src/shared/protocol.ts). */

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** The "ms-seq" form of the [ms, seq] BigInt pair a stream trigger receives. */
export function formatStreamId(id: readonly [bigint, bigint]): string {
  return `${id[0]}-${id[1]}`;
}

/** True for a complete id "ms-seq" (the only form the library accepts from callers). */
export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

/** The milliseconds part of an id. */
export function streamIdMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
