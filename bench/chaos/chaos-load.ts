/**
 * The campaign's load: updates (90%) and deletes (10%) of random keys `cp:<1..keys>` at a steady rate, each
 * update a whole row with the key's next version, with at most one command per key in flight (so a key's
 * versions run in Redis in version order, which the verdict's order check relies on). It survives the faults: a
 * command that fails (the runtime or redis-server is down) is counted and the key is marked uncertain until its
 * next acknowledged write, so the verification can tell an acknowledged write that Redis lost from one that
 * simply never happened.
 */
import type { RedisClientType } from 'redis';
import { sleep } from '../support/sleep.js';
import { CHAOS_PREFIX } from './chaos-schema.js';

/** What the application was last told about a key. */
export type KeyOutcome = { readonly version: number; readonly deleted: boolean } | 'uncertain';

export interface ChaosLoadCounts {
  readonly issued: number;
  readonly acknowledged: number;
  readonly failed: number;
}

const MAX_OUTSTANDING = 200;
const DELETE_SHARE = 0.1;

export function chaosHashFields(id: number, version: number): Record<string, string> {
  return { first_name: `F${id}-${version}`, last_name: `L${id}`, age: String((id + version) % 90), version: String(version) };
}

export class ChaosLoad {
  readonly #client: RedisClientType;
  readonly #keys: number;
  readonly #rate: number;
  readonly #versions = new Map<number, number>();
  /** Per key, the outcome of its last completed command. */
  readonly outcomes = new Map<number, KeyOutcome>();
  /**
   * Per key, the versions of its commands in the order their replies came (deletes and failures too): in version
   * order, as one command per key is in flight. The verdict prints it for a key applied out of order.
   */
  readonly replyOrder = new Map<number, number[]>();
  #issued = 0;
  #acknowledged = 0;
  #failed = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  /** Keys with a command in flight. */
  readonly #busy = new Set<number>();

  constructor(client: RedisClientType, keys: number, rate: number) {
    this.#client = client;
    this.#keys = keys;
    this.#rate = rate;
  }

  get counts(): ChaosLoadCounts {
    return { issued: this.#issued, acknowledged: this.#acknowledged, failed: this.#failed };
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops issuing and waits for every command in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.all(this.#inFlight);
  }

  async #run(): Promise<void> {
    const started = performance.now();
    let scheduled = 0;
    while (this.#running) {
      const due = Math.floor(((performance.now() - started) / 1000) * this.#rate);
      while (scheduled < due && this.#inFlight.size < MAX_OUTSTANDING && this.#issueOne()) scheduled++;
      // Behind schedule because the server is down (or every key has a command in flight): do not build a burst
      // for when it comes back.
      if (scheduled < due) scheduled = due;
      await sleep(10);
    }
  }

  /**
   * Issues a command for a random key that has none in flight; false when it found none (every key tried is
   * busy). One command per key at a time: with several in flight, the cluster client ran them in Redis out of
   * issue order around slot moves (the servers' MONITOR showed `cp:17` v270–v280 run on the slot's new owner
   * before v249–v269, which had been redirected), the capture and the worker followed Redis' order, and the
   * verdict, comparing versions, called that out of order.
   */
  #issueOne(): boolean {
    let id = 1 + Math.floor(Math.random() * this.#keys);
    for (let tries = 1; this.#busy.has(id); tries++) {
      if (tries >= Math.min(this.#keys, 64)) return false;
      id = 1 + Math.floor(Math.random() * this.#keys);
    }
    this.#busy.add(id);
    const key = `${CHAOS_PREFIX}:${id}`;
    this.#issued++;
    const isDelete = Math.random() < DELETE_SHARE;
    const version = (this.#versions.get(id) ?? 0) + 1;
    this.#versions.set(id, version);
    const command = isDelete ? this.#client.del(key) : this.#client.hSet(key, chaosHashFields(id, version));
    const replied = () => {
      const order = this.replyOrder.get(id);
      if (order === undefined) this.replyOrder.set(id, [version]);
      else order.push(version);
    };
    const done = command.then(
      () => {
        replied();
        this.#acknowledged++;
        this.outcomes.set(id, { version, deleted: isDelete });
      },
      () => {
        replied();
        this.#failed++;
        this.outcomes.set(id, 'uncertain');
      },
    );
    const tracked = done.finally(() => {
      this.#inFlight.delete(tracked);
      this.#busy.delete(id);
    });
    this.#inFlight.add(tracked);
    return true;
  }
}
