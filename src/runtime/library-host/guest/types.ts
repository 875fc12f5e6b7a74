/**
 * Brand checks inside the isolate (what util.types offers the host), made with intrinsics taken before library
 * code runs, so a library cannot fool them by replacing prototypes or Symbol.hasInstance.
 */
const apply = Reflect.apply;
const stringValueOf = String.prototype.valueOf;
const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size')!.get!;
const getPrototypeOf = Object.getPrototypeOf;
const AsyncFunctionPrototype = getPrototypeOf(async function () {}) as object;
const promiseThen = Promise.prototype.then;
const IntrinsicPromise = Promise;
const ordinaryHasInstance = Function.prototype[Symbol.hasInstance];

function branded(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

export function isStringObject(value: unknown): value is string & object {
  return typeof value === 'object' && value !== null && branded(() => apply(stringValueOf, value, []));
}

export function isSet(value: unknown): value is Set<unknown> {
  return typeof value === 'object' && value !== null && branded(() => apply(setSize, value, []));
}

export function isAsyncFunction(value: unknown): boolean {
  return typeof value === 'function' && getPrototypeOf(value) === AsyncFunctionPrototype;
}

/** A promise of the isolate's intrinsic Promise (async functions and RedisGears' Promise make these). */
export function isPromise(value: unknown): value is Promise<unknown> {
  return typeof value === 'object' && value !== null && (apply(ordinaryHasInstance, IntrinsicPromise, [value]) as boolean);
}

/** Adds reactions with the intrinsic `then`, whatever library code did to Promise.prototype. */
export function whenSettled(promise: Promise<unknown>, onFulfilled: (value: unknown) => void, onRejected: (error: unknown) => void): void {
  apply(promiseThen, promise, [onFulfilled, onRejected]);
}

/** `String(value)` as V8's ToString, never throwing (a throwing toString yields a generic text). */
export function stringForm(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'Failed converting value to string';
  }
}
