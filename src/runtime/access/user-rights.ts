/**
 * What `ACL GETUSER` says about a user, reduced to what the runtime's checks need: whether any check is needed
 * at all (the fast path), and which key patterns grant both read and write (a trigger's owner must have every
 * permission on the key that fired it, RM_ACLCheckKeyPermissions with all flags).
 */
import { textOf, type RespValue } from '../resp/types.js';
import { redisGlobMatch } from './redis-glob.js';

export interface UserRights {
  /** False when the server has no such user. */
  readonly exists: boolean;
  /** `on` and `nopass`: for the default user, connections need no AUTH. */
  readonly passwordless: boolean;
  /** `+@all` and `~*`: every command on every key is allowed, no call needs checking. */
  readonly allCommandsAndKeys: boolean;
  /** `&*`: PUBLISH to any channel is allowed too. */
  readonly allChannels: boolean;
  /**
   * The patterns granting read and write, of the root selector and every other one: a key passes when any of
   * them matches it (ACLUserCheckKeyPerm). Patterns are taken as UTF-8 text, as GETUSER shows them.
   */
  readonly readWritePatterns: readonly Buffer[];
}

export const MISSING_USER: UserRights = { exists: false, passwordless: false, allCommandsAndKeys: false, allChannels: false, readWritePatterns: [] };

/** The rights in an `ACL GETUSER` reply (RESP3 map or RESP2 flat array); null reply: no such user. */
export function parseUserRights(reply: RespValue): UserRights {
  if (reply.type === 'null') return MISSING_USER;
  const root = fields(reply);
  const selectors = root.get('selectors');
  const all = [root, ...(selectors && (selectors.type === 'array' || selectors.type === 'set') ? selectors.value.map(fields) : [])];
  const flags = root.get('flags');
  const flagSet = new Set(flags && (flags.type === 'array' || flags.type === 'set') ? flags.value.map(text) : []);
  return {
    exists: true,
    passwordless: flagSet.has('on') && flagSet.has('nopass'),
    allCommandsAndKeys: text(root.get('commands')) === '+@all' && text(root.get('keys')) === '~*',
    allChannels: text(root.get('channels')) === '&*',
    readWritePatterns: all.flatMap((selector) => readWritePatterns(text(selector.get('keys')))),
  };
}

/** Whether the user has every permission on `key`. */
export function mayFullyAccess(rights: UserRights, key: Buffer): boolean {
  if (rights.allCommandsAndKeys) return true;
  return rights.readWritePatterns.some((pattern) => redisGlobMatch(pattern, key));
}

/** `~p` and `%RW~p` grant both; `%R~p` / `%W~p` only one (ACLDescribeSelector's forms). */
function readWritePatterns(keys: string): Buffer[] {
  const out: Buffer[] = [];
  for (const item of keys.split(' ')) {
    const tilde = item.indexOf('~');
    if (tilde < 0) continue;
    const flags = item.slice(0, tilde);
    if (flags === '' || (flags.startsWith('%') && flags.includes('R') && flags.includes('W'))) out.push(Buffer.from(item.slice(tilde + 1)));
  }
  return out;
}

function fields(value: RespValue): Map<string, RespValue> {
  const out = new Map<string, RespValue>();
  if (value.type === 'map') {
    for (const [k, v] of value.value) out.set(textOf(k) ?? '', v);
  } else if (value.type === 'array') {
    for (let i = 0; i + 1 < value.value.length; i += 2) out.set(textOf(value.value[i]!) ?? '', value.value[i + 1]!);
  }
  return out;
}

function text(value: RespValue | undefined): string {
  return value ? (textOf(value) ?? '') : '';
}
