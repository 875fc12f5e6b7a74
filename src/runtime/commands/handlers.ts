/** The handlers of the RedisGears commands the library host implements, one file each. */
import { TFCALL } from './TFCALL.js';
import { TFCALLASYNC } from './TFCALLASYNC.js';
import { TFUNCTION_DELETE } from './TFUNCTION_DELETE.js';
import { TFUNCTION_LIST } from './TFUNCTION_LIST.js';
import { TFUNCTION_LOAD } from './TFUNCTION_LOAD.js';

export const COMMANDS = { TFUNCTION_LOAD, TFUNCTION_DELETE, TFUNCTION_LIST, TFCALL, TFCALLASYNC } as const;
