/**
 * Conversions between RESP and the library's JS values, with RedisGears' rules (v8_native_functions.rs
 * `call_result_to_js_object`, v8_function_ctx.rs `v8_value_to_call_result`). JS values are created in the
 * library's realm, so `instanceof Array`/`Set`/`ArrayBuffer` hold inside the sandbox.
 */
import { types } from 'node:util';
import type { RespValue } from '../resp/types.js';
import type { RealmIntrinsics } from './sandbox.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of valid UTF-8 bytes, or null. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** An ArrayBuffer of the library's realm holding a copy of `bytes`. */
export function realmArrayBuffer(realm: RealmIntrinsics, bytes: Uint8Array): ArrayBuffer {
  return new realm.Uint8Array(bytes).buffer as ArrayBuffer;
}

/**
 * A RESP3 reply as RedisGears hands it to JS. Errors are thrown as plain strings (the error text); `raw`
 * (callRaw) keeps bulk strings as ArrayBuffers.
 */
export function replyToJs(reply: RespValue, realm: RealmIntrinsics, raw: boolean): unknown {
  switch (reply.type) {
    case 'error':
      throw reply.value;
    case 'blob':
      return bulkToJs(reply.value, realm, raw);
    case 'simple':
      return raw ? realmArrayBuffer(realm, Buffer.from(reply.value)) : reply.value;
    case 'integer':
      return reply.value;
    case 'double':
      return reply.value;
    case 'boolean':
      return reply.value;
    case 'null':
      return null;
    case 'bignum': {
      const value = new realm.String(reply.value) as String & Record<string, unknown>;
      value['__reply_type'] = 'big_number';
      return value;
    }
    case 'verbatim': {
      let value: object;
      if (raw) value = realmArrayBuffer(realm, reply.value);
      else {
        const text = decodeUtf8(reply.value);
        if (text === null) throw 'invalid utf-8 sequence';
        value = new realm.String(text);
      }
      (value as Record<string, unknown>)['__reply_type'] = 'verbatim';
      (value as Record<string, unknown>)['__format'] = reply.format;
      return value;
    }
    case 'array':
    case 'push': {
      const out = new realm.Array();
      for (const item of reply.value) out.push(replyToJs(item, realm, raw));
      return out;
    }
    case 'set': {
      const out = new realm.Set();
      for (const item of reply.value) out.add(replyToJs(item, realm, raw));
      return out;
    }
    case 'map': {
      const out = new realm.Object() as Record<string, unknown>;
      for (const [key, value] of reply.value) {
        let name: string;
        if (key.type === 'blob' || key.type === 'simple') {
          const text = key.type === 'simple' ? key.value : decodeUtf8(key.value);
          if (text === null) throw 'Binary map key is not supported';
          name = text;
        } else if (key.type === 'integer') {
          name = String(key.value);
        } else if (key.type === 'error') {
          throw key.value;
        } else {
          throw 'Given object can not be a object key';
        }
        out[name] = replyToJs(value, realm, raw);
      }
      return out;
    }
  }
}

function bulkToJs(bytes: Buffer, realm: RealmIntrinsics, raw: boolean): unknown {
  if (raw) return realmArrayBuffer(realm, bytes);
  const text = decodeUtf8(bytes);
  if (text === null) throw 'Could not decode value as string';
  return text;
}

const MAX_NESTING = 100;
/** V8's `IsInt32()`: -0 and fractions are not int32. */
const isInt32 = (value: number): boolean => Number.isInteger(value) && !Object.is(value, -0) && value >= -0x80000000 && value <= 0x7fffffff;
/** A canonical array index (what V8's GetPropertyNames hands back as a number with kKeepNumbers). */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/** Thrown while converting a return value: the reply becomes this error. */
export class ReplyConversionError {
  constructor(readonly message: string) {}
}

/**
 * A JS value returned by library code, as the reply RedisGears sends (§3.4, v8_value_to_call_result); the
 * protocol downgrade is the encoder's. The checks run in RedisGears' order: BigInt or int32 (IsBigInt||IsInt32,
 * BigInts wrapped to i64 as Int64Value does), number, string, String object, ArrayBuffer, null, boolean, Set,
 * Array, any other object (functions and promises included: V8's IsObject), else the string form.
 */
export function jsToReply(value: unknown, depth = 0): RespValue {
  if (depth > MAX_NESTING) throw new ReplyConversionError('nesting level reached');
  if (typeof value === 'bigint') return { type: 'integer', value: BigInt.asIntN(64, value) };
  if (typeof value === 'number') return isInt32(value) ? { type: 'integer', value: BigInt(value) } : { type: 'double', value };
  if (typeof value === 'string') return { type: 'blob', value: Buffer.from(value) };
  if (types.isStringObject(value)) return stringObjectReply(value as unknown as Record<string, unknown>);
  if (types.isArrayBuffer(value)) return { type: 'blob', value: Buffer.from(new Uint8Array(value)) };
  if (value === null) return { type: 'null' };
  if (typeof value === 'boolean') return { type: 'boolean', value };
  if (types.isSet(value)) return { type: 'set', value: setMembers(value as Set<unknown>) };
  if (Array.isArray(value)) return { type: 'array', value: value.map((item) => jsToReply(item, depth + 1)) };
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    const entries: [RespValue, RespValue][] = [];
    // for-in order, inherited enumerable properties included (V8 GetPropertyNames).
    for (const key in value as Record<string, unknown>) {
      entries.push([propertyKey(key), jsToReply((value as Record<string, unknown>)[key], depth + 1)]);
    }
    return { type: 'map', value: entries };
  }
  return { type: 'blob', value: Buffer.from(stringForm(value)) };
}

/** `__reply_type` 'status' → simple string, 'verbatim' → verbatim string with a 3-byte ASCII `__format`. */
function stringObjectReply(object: Record<string, unknown>): RespValue {
  const text = String(object);
  const replyType = stringForm(object['__reply_type']);
  if (replyType === 'status') return { type: 'simple', value: text };
  if (replyType === 'verbatim') {
    // An absent __format reads as "undefined" (v8 ToString), which is not 3 bytes long.
    const format = stringForm(object['__format']);
    if (Buffer.byteLength(format) !== 3) throw new ReplyConversionError('Verbatim format length must be 3.');
    if ([...format].some((c) => c.codePointAt(0)! >= 127)) throw new ReplyConversionError('Verbatim format must contains only ASCI values.');
    return { type: 'verbatim', format, value: Buffer.from(text) };
  }
  return { type: 'blob', value: Buffer.from(text) };
}

/** A map key from a property name: array indices come as numbers, int32 ones become integers. */
function propertyKey(name: string): RespValue {
  if (!ARRAY_INDEX.test(name) || Number(name) > 0xfffffffe) return { type: 'blob', value: Buffer.from(name) };
  if (Number(name) > 0x7fffffff) throw new ReplyConversionError('Give value is not a key');
  return { type: 'integer', value: BigInt(name) };
}

/** Members of a returned Set: only key-like values (v8_value_to_redis_value_key), equal keys once. */
function setMembers(members: Set<unknown>): RespValue[] {
  const out: RespValue[] = [];
  const seen = new Set<string>();
  for (const member of members) {
    let key: RespValue;
    if (typeof member === 'bigint') key = { type: 'integer', value: BigInt.asIntN(64, member) };
    else if (typeof member === 'number' && isInt32(member)) key = { type: 'integer', value: BigInt(member) };
    else if (typeof member === 'string' || types.isStringObject(member)) key = { type: 'blob', value: Buffer.from(String(member)) };
    else if (types.isArrayBuffer(member)) key = { type: 'blob', value: Buffer.from(new Uint8Array(member)) };
    else if (typeof member === 'boolean') key = { type: 'boolean', value: member };
    else throw new ReplyConversionError('Give value is not a key');
    const identity = key.type === 'blob' ? `b${key.value.toString('hex')}` : `${key.type}${String(key.value)}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    out.push(key);
  }
  return out;
}

/** `String(value)` as V8's ToString, never throwing (a throwing toString yields a generic text). */
export function stringForm(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'Failed converting value to string';
  }
}
