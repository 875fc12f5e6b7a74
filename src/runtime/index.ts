/** The runtime's public API. */
export { Runtime } from './runtime.js';
export type { RuntimeOptions, GearsHostFactory, GearsHostOptions } from './runtime.js';
export type { GearsHost, LockedExecutor, KeyspaceEvent, CallerContext, GearsCommandName } from './gears-host.js';
