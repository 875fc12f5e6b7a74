/** Deletes a key again and again straight on redis-server, as a hostile or buggy client would. */
import type { createClient } from 'redis';

/** DELs `key` as soon as it exists, for `forMs`; resolves with how many DELs found it. */
export async function deleteRepeatedly(client: Pick<ReturnType<typeof createClient>, 'del'>, key: string, forMs: number): Promise<number> {
  const until = Date.now() + forMs;
  let deletions = 0;
  while (Date.now() < until) {
    if ((await client.del(key)) === 1) deletions += 1;
    else await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return deletions;
}
