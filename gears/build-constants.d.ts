/** Replaced at build time by build/build.mjs (esbuild `define`) with the package version. */
declare const __LIBRARY_VERSION__: string;
