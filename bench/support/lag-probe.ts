/**
 * Measures, for sampled writes, the time from issuing the HSET to (1) the row being visible in MySQL and
 * (2) the acknowledgement arriving, read the way the seed tells applications to: `XREAD BLOCK` on
 * `{<key>}<uuid>`. Each blocking read takes a connection of its own from a pool (a blocked connection cannot
 * carry other commands); MySQL is polled for the pending sampled rows every POLL_MS.
 */
import mysql from 'mysql2/promise';
import { createClientPool, type RedisClientPoolType } from 'redis';
import { ackStreamKey } from '../../src/shared/keys.js';
import { PERSONS_TABLE } from './persons-table.js';
import { sleep } from './sleep.js';

const POLL_MS = 10;
/** Longest an acknowledgement is waited for; a sample slower than this counts as lost for the percentile. */
const ACK_BLOCK_MS = 15_000;

export interface LagSamples {
  /** HSET → row visible in MySQL, ms (Infinity when it never became visible). */
  readonly visibleMs: number[];
  /** HSET → acknowledgement read, ms (Infinity when none arrived within ACK_BLOCK_MS). */
  readonly ackMs: number[];
}

export class LagProbe {
  readonly #pool: RedisClientPoolType;
  readonly #db: mysql.Connection;
  readonly #waitingRows = new Map<string, number>();
  readonly #visibleMs: number[] = [];
  readonly #ackMs: number[] = [];
  readonly #acks = new Set<Promise<void>>();
  #polling = true;
  readonly #poller: Promise<void>;

  private constructor(pool: RedisClientPoolType, db: mysql.Connection) {
    this.#pool = pool;
    this.#db = db;
    this.#poller = this.#pollMysql();
  }

  static async open(runtimeUrl: string, mysqlUrl: string): Promise<LagProbe> {
    const pool = (await createClientPool({ url: runtimeUrl }, { minimum: 4, maximum: 128, acquireTimeout: 30_000 }).connect()) as unknown as RedisClientPoolType;
    const db = await mysql.createConnection({ uri: mysqlUrl });
    return new LagProbe(pool, db);
  }

  /** Follows one write: `issuedAt` is performance.now() just before its HSET was sent. */
  follow(hashKey: string, personId: string, uuid: string, issuedAt: number): void {
    this.#waitingRows.set(personId, issuedAt);
    const read = this.#pool
      .xRead({ key: ackStreamKey(hashKey, uuid), id: '0-0' }, { BLOCK: ACK_BLOCK_MS })
      .then((reply) => {
        this.#ackMs.push(reply === null ? Number.POSITIVE_INFINITY : performance.now() - issuedAt);
      })
      .finally(() => this.#acks.delete(read));
    this.#acks.add(read);
  }

  /** Waits for every followed write (or its timeout) and returns the samples gathered since the last call. */
  async collect(timeoutMs: number): Promise<LagSamples> {
    await Promise.all(this.#acks);
    const deadline = Date.now() + timeoutMs;
    while (this.#waitingRows.size > 0 && Date.now() < deadline) await sleep(POLL_MS);
    for (const _ of this.#waitingRows.keys()) this.#visibleMs.push(Number.POSITIVE_INFINITY);
    this.#waitingRows.clear();
    const samples = { visibleMs: this.#visibleMs.splice(0), ackMs: this.#ackMs.splice(0) };
    return samples;
  }

  async close(): Promise<void> {
    this.#polling = false;
    await this.#poller;
    await this.#db.end();
    this.#pool.destroy();
  }

  async #pollMysql(): Promise<void> {
    while (this.#polling) {
      if (this.#waitingRows.size > 0) {
        const ids = [...this.#waitingRows.keys()].slice(0, 2000);
        const [rows] = await this.#db.query(`SELECT person_id FROM ${PERSONS_TABLE} WHERE person_id IN (?)`, [ids]);
        const now = performance.now();
        for (const row of rows as Array<{ person_id: number | string }>) {
          const id = String(row.person_id);
          const issuedAt = this.#waitingRows.get(id);
          if (issuedAt === undefined) continue;
          this.#visibleMs.push(now - issuedAt);
          this.#waitingRows.delete(id);
        }
      }
      await sleep(POLL_MS);
    }
  }
}
