/**
 * A JS value returned by library code, converted as RedisGears converts it into a reply (§3.4,
 * v8_function_ctx.rs `v8_value_to_call_result`), inside the isolate and under the lock timeout: whatever getters,
 * proxies or toString methods the value has run here, never in the host. The checks run in RedisGears' order:
 * BigInt or int32, number, string, String object, ArrayBuffer, null, boolean, Set, Array, any other object
 * (functions and promises included), else the string form.
 */
import { Tag, type GuestReply } from './protocol.js';
import { isArrayBuffer } from './bytes.js';
import { isSet, isStringObject, stringForm } from './types.js';
import { encodeUtf8 } from './bytes.js';

const MAX_NESTING = 100;
const asIntN = BigInt.asIntN;
const isArray = Array.isArray;
const IntrinsicString = String;
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;
const regexpTest = RegExp.prototype.test;
const apply = Reflect.apply;
const setValues = Set.prototype.values;
const setIteratorNext = Object.getPrototypeOf(new Set().values()).next as () => IteratorResult<unknown>;

/** Thrown while converting: the reply becomes this error text. */
export class ConversionError {
  constructor(readonly message: string) {}
}

const isInt32 = (value: number): boolean => (value | 0) === value && !Object.is(value, -0);

export function toReply(value: unknown, depth = 0): GuestReply {
  if (depth > MAX_NESTING) throw new ConversionError('nesting level reached');
  if (typeof value === 'bigint') return asIntN(64, value);
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value;
  // ArrayBuffer first: a brand check that fails costs an exception, and String objects are the rare case.
  if (isArrayBuffer(value)) return value;
  if (isStringObject(value)) return stringObjectReply(value as unknown as Record<string, unknown>);
  if (value === null) return null;
  if (typeof value === 'boolean') return value;
  if (isSet(value)) return [Tag.SET, setMembers(value)];
  if (isArray(value)) {
    const items: GuestReply[] = [];
    const length = value.length;
    for (let i = 0; i < length; i++) items[i] = toReply(value[i], depth + 1);
    return [Tag.ARRAY, items];
  }
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    const keys: (string | number)[] = [];
    const values: GuestReply[] = [];
    // for-in order, inherited enumerable properties included (V8 GetPropertyNames).
    for (const key in value as Record<string, unknown>) {
      keys[keys.length] = propertyKey(key);
      values[values.length] = toReply((value as Record<string, unknown>)[key], depth + 1);
    }
    return [Tag.MAP, keys, values];
  }
  return stringForm(value);
}

/** `__reply_type` 'status' → simple string, 'verbatim' → verbatim string with a 3-byte ASCII `__format`. */
function stringObjectReply(object: Record<string, unknown>): GuestReply {
  const text = IntrinsicString(object);
  const replyType = stringForm(object['__reply_type']);
  if (replyType === 'status') return [Tag.STATUS, text];
  if (replyType === 'verbatim') {
    // An absent __format reads as "undefined" (v8 ToString), which is not 3 bytes long.
    const format = stringForm(object['__format']);
    const bytes = encodeUtf8(format);
    if (bytes.length !== 3) throw new ConversionError('Verbatim format length must be 3.');
    for (let i = 0; i < bytes.length; i++) if (bytes.charCodeAt(i) >= 127) throw new ConversionError('Verbatim format must contains only ASCI values.');
    return [Tag.VERBATIM, format, text];
  }
  return text;
}

/** A map key from a property name: array indices come as numbers, int32 ones become integers. */
function propertyKey(name: string): string | number {
  if (!(apply(regexpTest, ARRAY_INDEX, [name]) as boolean) || Number(name) > 0xfffffffe) return name;
  if (Number(name) > 0x7fffffff) throw new ConversionError('Give value is not a key');
  return Number(name);
}

/** Members of a returned Set: only key-like values (v8_value_to_redis_value_key); the host drops equal keys. */
function setMembers(members: Set<unknown>): GuestReply[] {
  const out: GuestReply[] = [];
  const iterator = apply(setValues, members, []) as Iterator<unknown>;
  for (let step = apply(setIteratorNext, iterator, []) as IteratorResult<unknown>; !step.done; step = apply(setIteratorNext, iterator, []) as IteratorResult<unknown>) {
    const member = step.value;
    if (typeof member === 'bigint') out[out.length] = asIntN(64, member);
    else if (typeof member === 'number' && isInt32(member)) out[out.length] = member;
    else if (typeof member === 'string') out[out.length] = member;
    else if (isStringObject(member)) out[out.length] = IntrinsicString(member);
    else if (isArrayBuffer(member)) out[out.length] = member;
    else if (typeof member === 'boolean') out[out.length] = member;
    else throw new ConversionError('Give value is not a key');
  }
  return out;
}
