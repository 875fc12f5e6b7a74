/**
 * native/isolate-hooks, which each library's isolate loads (isolated-vm's NativeModule) before the guest runs:
 * the guest takes over promise-rejection tracking and microtask checkpoints from isolated-vm, so no library code
 * runs outside a call's lock timeout (native/isolate-hooks/isolate_hooks.cc says why). Not optional: without it a
 * library could wedge the runtime, so the runtime does not run libraries without it.
 */
import ivm from 'isolated-vm';
import { addonFile } from '../../shared/native-addon.js';

let loaded: ivm.NativeModule | undefined;

/** The module, opened once per process. Throws when `npm ci` (or `npm run install`) did not build it. */
export function isolateHooks(): ivm.NativeModule {
  if (loaded) return loaded;
  const file = addonFile('isolate-hooks', 'isolate_hooks');
  if (file === null) {
    throw new Error('native/isolate-hooks is not built: run `npm run install` (node-gyp and a C++ compiler); the runtime runs no library without it');
  }
  loaded = new ivm.NativeModule(file);
  return loaded;
}
