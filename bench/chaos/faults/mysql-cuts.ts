/**
 * MySQL connection cuts: from an admin connection, KILL every connection to the round's database except its
 * own, every few hundred milliseconds while the load runs. The shared MariaDB server itself is never stopped
 * (other engineers use it).
 */
import { sleep } from '../../support/sleep.js';
import type { Fault } from '../chaos-round.js';

const INTERVAL_MS = 300;

export function mysqlCuts(): Fault {
  return {
    name: 'MySQL connection cuts',
    async inject(env) {
      let killed = 0;
      let sweeps = 0;
      const deadline = Date.now() + env.seconds * 1000;
      while (Date.now() < deadline) {
        const ids = await env.db.query<Array<{ ID: number }>>('SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [env.db.name]);
        for (const { ID } of ids) {
          try {
            await env.db.query(`KILL CONNECTION ${Number(ID)}`);
            killed++;
          } catch {
            // Gone already (the worker's pool dropped it): nothing to cut.
          }
        }
        sweeps++;
        await sleep(INTERVAL_MS);
      }
      return { injected: `${killed} connections killed in ${sweeps} sweeps`, failures: [], notes: [] };
    },
  };
}
