/** What slot re-capture needs of the config: the library's name and every writer's key prefix. */
import type { WriteBehindConfig } from '../shared/config.js';
import { hashKeyPrefix } from '../shared/keys.js';
import type { RecaptureTarget } from './recapture-slots.js';

export function recaptureTarget(config: WriteBehindConfig): RecaptureTarget {
  return Object.freeze({ library: config.name, prefixes: Object.freeze(config.writers.map((writer) => hashKeyPrefix(writer.keysPrefix))) });
}
