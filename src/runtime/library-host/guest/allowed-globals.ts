/** Globals a library sees (v8_backend.rs GLOBALS_ALLOW_DENY_LISTS); every other global is deleted before it loads. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'Object', 'Function', 'Array', 'Number', 'parseFloat', 'parseInt', 'Infinity', 'NaN', 'undefined', 'Boolean', 'String',
  'Symbol', 'Date', 'Promise', 'RegExp', 'Error', 'AggregateError', 'RangeError', 'ReferenceError', 'SyntaxError',
  'TypeError', 'URIError', 'globalThis', 'JSON', 'Math', 'Intl', 'ArrayBuffer', 'Uint8Array', 'Int8Array', 'Uint16Array',
  'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Uint8ClampedArray', 'BigUint64Array',
  'BigInt64Array', 'DataView', 'Map', 'Set', 'WeakMap', 'WeakSet', 'BigInt', 'Proxy', 'Reflect', 'FinalizationRegistry',
  'WeakRef', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'unescape', 'isFinite',
  'isNaN', 'console', 'Iterator',
  // WebAssembly is on RedisGears' allow-list but hidden by its default V8 flag --noexpose-wasm, so it is not kept.
]);
