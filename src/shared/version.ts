/** Version of this package; the library reports the same (build/build.mjs injects it), so `status` can compare. */
export { PACKAGE_VERSION as VERSION } from '../generated/version.js';
