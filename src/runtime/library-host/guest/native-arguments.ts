/**
 * Argument checks of RedisGears' native functions, with the messages of v8-rs' `new_native_function!` and
 * `NativeFunctionArgument` derive: positional conversions first ("Can not convert value at position N into T.
 * E."), option objects checked strictly (known keys popped, null/undefined count as absent, leftovers rejected).
 */
import { isAsyncFunction as isAsync, isStringObject } from './types.js';

const hasOwn = Object.prototype.hasOwnProperty;
const keysOf = Object.keys;
const isArray = Array.isArray;
const IntrinsicString = String;

/** A thrown value is a plain string, as V8's raise_exception_str throws it. */
export function convertError(position: number, typeName: string, problem: string): string {
  return `Can not convert value at position ${position} into ${typeName}. ${problem}.`;
}

/** A required string argument (V8LocalUtf8). */
export function requireString(args: readonly unknown[], position: number): string {
  if (args.length <= position) throw convertError(position, 'V8LocalUtf8', 'Wrong number of arguments given');
  const value = args[position];
  if (typeof value !== 'string') throw convertError(position, 'V8LocalUtf8', 'Value is not string');
  return value;
}

/** A required argument of any type (V8LocalValue). */
export function requireValue(args: readonly unknown[], position: number): unknown {
  if (args.length <= position) throw convertError(position, 'V8LocalValue', 'Wrong number of arguments given');
  return args[position];
}

export type FieldKind = 'string' | 'array' | 'long' | 'boolean' | 'value';

const FIELD_PROBLEM: Record<Exclude<FieldKind, 'value'>, string> = {
  string: 'Value is not string',
  array: 'Value is not an array',
  long: 'Value is not long',
  boolean: 'Value is not a boolean',
};

/**
 * An optional options object (Option<Struct>): absent when not passed at all; an explicit `undefined` or any
 * non-object is rejected ("Given argument must be an object"), as v8-rs does. Known fields are deleted from the
 * caller's object in declaration order.
 */
export function popOptions(
  args: readonly unknown[],
  position: number,
  structName: string,
  fields: readonly (readonly [name: string, kind: FieldKind])[],
): Record<string, unknown> | null {
  if (args.length <= position) return null;
  const typeName = `Option < ${structName} >`;
  const value = args[position];
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) throw convertError(position, typeName, 'Given argument must be an object');
  const object = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, kind] of fields) {
    const present = Reflect.apply(hasOwn, object, [name]) || name in object;
    if (!present) continue;
    const field = object[name];
    delete object[name];
    if (field === null || field === undefined) continue;
    if (!fieldMatches(field, kind)) throw convertError(position, typeName, `Failed getting field ${name}, ${FIELD_PROBLEM[kind as Exclude<FieldKind, 'value'>]}.`);
    // String fields take String objects too (v8-rs `TryFrom<&V8LocalValue> for String`).
    out[name] = kind === 'string' ? IntrinsicString(field) : field;
  }
  const left = keysOf(object);
  if (left.length > 0) throw convertError(position, typeName, `Unknown properties given: ${left.join(',')}`);
  return out;
}

function fieldMatches(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string' || isStringObject(value);
    case 'array':
      return isArray(value);
    case 'long':
      return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff);
    case 'boolean':
      return typeof value === 'boolean';
    case 'value':
      return true;
  }
}

export function isFunction(value: unknown): value is (...args: unknown[]) => unknown {
  return typeof value === 'function';
}

export function isAsyncFunction(value: unknown): boolean {
  return isAsync(value);
}
