/**
 * RedisGears' texts for what ACL refuses (Redis 7.2 getAclErrorMessage as RM_Call and processCommand give it,
 * redis-module-rs, RedisGears lib.rs / stream_run_ctx.rs), built from what `ACL DRYRUN` answers (7.0: "This
 * user has no permissions to …", 7.2: "User <name> has no permissions to …").
 */

/** redis-module-rs: the user of a call or block() is gone (RM_GetModuleUserFromUserName gave NULL). */
export const USER_MISSING = 'User does not exists or disabled';
/** redis-module-rs acl_check_key_permission. */
const KEY_NOT_PERMITTED = 'User does not have permissions on key';

/**
 * The error of a refused command, from ACL DRYRUN's answer. `shownAs` names the command in a command denial
 * (a TF command is checked through the server command whose rights it needs, but refused under its own name).
 */
export function denialFromDryRun(answer: string, user: string, shownAs: string | null): string {
  const command = /no permissions to run the '([\s\S]*)' command$/.exec(answer);
  if (command) return `NOPERM User ${user} has no permissions to run the '${shownAs ?? command[1]}' command`;
  if (/no permissions to access the '[\s\S]*' key$/.test(answer)) return 'NOPERM No permissions to access a key';
  if (/no permissions to access the '[\s\S]*' channel$/.test(answer)) return 'NOPERM No permissions to access a channel';
  return `NOPERM ${answer}`;
}

/** A trigger whose owner may not fully access the key (or stream) that fired it. */
export function triggerKeyDenial(user: string, key: Buffer, ownerMissing: boolean): string {
  const text = key.toString('utf8');
  const shown = Buffer.from(text).equals(key) ? text : '[binary data]';
  return `User '${user}' has no permissions on key '${shown}', ${ownerMissing ? USER_MISSING : KEY_NOT_PERMITTED}.`;
}
