import { describe, expect, it } from 'vitest';
import { denialFromDryRun, triggerKeyDenial } from './denial.js';

describe("RedisGears' ACL texts from ACL DRYRUN's answer", () => {
  it.each([
    ["This user has no permissions to run the 'set' command", null, "NOPERM User alice has no permissions to run the 'set' command"],
    ["User alice has no permissions to run the 'function|load' command", 'tfunction', "NOPERM User alice has no permissions to run the 'tfunction' command"],
    ["This user has no permissions to access the 'it's' key", null, 'NOPERM No permissions to access a key'],
    ["User alice has no permissions to access the 'x' key", null, 'NOPERM No permissions to access a key'],
    ["This user has no permissions to access the 'ch' channel", null, 'NOPERM No permissions to access a channel'],
  ])('%s', (answer, shownAs, expected) => {
    expect(denialFromDryRun(answer, 'alice', shownAs)).toBe(expected);
  });

  it('names the key of a refused trigger, or [binary data]', () => {
    expect(triggerKeyDenial('alice', Buffer.from('k'), false)).toBe("User 'alice' has no permissions on key 'k', User does not have permissions on key.");
    expect(triggerKeyDenial('bob', Buffer.from([0xff]), true)).toBe("User 'bob' has no permissions on key '[binary data]', User does not exists or disabled.");
  });
});
