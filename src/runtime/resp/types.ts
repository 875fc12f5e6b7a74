/**
 * RESP values as the runtime handles them: a tagged union covering RESP2 and RESP3, so a reply keeps its exact
 * type until it is encoded for a client of a given protocol. Bulk strings stay bytes (Buffer): keys and values
 * may be binary.
 */
export type RespValue =
  | SimpleStringReply
  | ErrorReply
  | IntegerReply
  | BlobStringReply
  | NullReply
  | ArrayReply
  | MapReply
  | SetReply
  | PushReply
  | DoubleReply
  | BooleanReply
  | BigNumberReply
  | VerbatimStringReply;

export interface SimpleStringReply { readonly type: 'simple'; readonly value: string }
/** The whole error line, e.g. "ERR unknown command" or "WRONGTYPE ...": its first word is the code. */
export interface ErrorReply { readonly type: 'error'; readonly value: string }
export interface IntegerReply { readonly type: 'integer'; readonly value: bigint }
export interface BlobStringReply { readonly type: 'blob'; readonly value: Buffer }
export interface NullReply { readonly type: 'null' }
export interface ArrayReply { readonly type: 'array'; readonly value: RespValue[] }
export interface MapReply { readonly type: 'map'; readonly value: [RespValue, RespValue][] }
export interface SetReply { readonly type: 'set'; readonly value: RespValue[] }
/** Out-of-band messages (pub/sub in RESP3). */
export interface PushReply { readonly type: 'push'; readonly value: RespValue[] }
export interface DoubleReply { readonly type: 'double'; readonly value: number }
export interface BooleanReply { readonly type: 'boolean'; readonly value: boolean }
export interface BigNumberReply { readonly type: 'bignum'; readonly value: string }
export interface VerbatimStringReply { readonly type: 'verbatim'; readonly format: string; readonly value: Buffer }

export type RespProtocol = 2 | 3;

export const OK: SimpleStringReply = Object.freeze({ type: 'simple', value: 'OK' });
export const NULL: NullReply = Object.freeze({ type: 'null' });

export const simple = (value: string): SimpleStringReply => ({ type: 'simple', value });
export const error = (value: string): ErrorReply => ({ type: 'error', value });
export const integer = (value: bigint | number): IntegerReply => ({ type: 'integer', value: BigInt(value) });
export const blob = (value: Buffer | string): BlobStringReply => ({ type: 'blob', value: typeof value === 'string' ? Buffer.from(value) : value });
export const array = (value: RespValue[]): ArrayReply => ({ type: 'array', value });
export const map = (value: [RespValue, RespValue][]): MapReply => ({ type: 'map', value });
export const set = (value: RespValue[]): SetReply => ({ type: 'set', value });
export const double = (value: number): DoubleReply => ({ type: 'double', value });
export const boolean = (value: boolean): BooleanReply => ({ type: 'boolean', value });

/** A map reply from string keys, in the given order. */
export function mapOf(entries: [string, RespValue][]): MapReply {
  return map(entries.map(([k, v]) => [blob(k), v]));
}

/** The text of a blob, simple or verbatim string; null for anything else. */
export function textOf(value: RespValue): string | null {
  switch (value.type) {
    case 'blob':
    case 'verbatim':
      return value.value.toString('utf8');
    case 'simple':
      return value.value;
    default:
      return null;
  }
}
