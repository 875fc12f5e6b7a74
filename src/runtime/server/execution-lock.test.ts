import { describe, expect, it } from 'vitest';
import { ExecutionLock } from './execution-lock.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ExecutionLock', () => {
  it('lets shared holders overlap, and an exclusive one wait for all of them', async () => {
    const lock = new ExecutionLock();
    const a = await lock.shared();
    const b = await lock.shared();
    let exclusive = false;
    const pending = lock.exclusive().then((release) => {
      exclusive = true;
      return release;
    });
    a();
    await tick();
    expect(exclusive).toBe(false);
    b();
    (await pending)();
    expect(exclusive).toBe(true);
    expect(lock.busy).toBe(false);
  });

  it('serves waiters in arrival order, so shared holders cannot starve an exclusive one', async () => {
    const lock = new ExecutionLock();
    const order: string[] = [];
    const first = await lock.shared();
    const exclusive = lock.exclusive().then((release) => {
      order.push('exclusive');
      release();
    });
    const later = lock.shared().then((release) => {
      order.push('later shared');
      release();
    });
    await tick();
    expect(order).toEqual([]);
    first();
    await Promise.all([exclusive, later]);
    expect(order).toEqual(['exclusive', 'later shared']);
  });

  it('releasing twice is harmless', async () => {
    const lock = new ExecutionLock();
    const release = await lock.exclusive();
    release();
    release();
    const again = await lock.exclusive();
    again();
    expect(lock.busy).toBe(false);
  });

  it('an exclusive holder that steps aside lets shared holders run, never another exclusive one, and takes the lock back once they are done', async () => {
    const lock = new ExecutionLock();
    const held = await lock.exclusive();
    const order: string[] = [];
    const waitingShared = lock.shared().then((release) => (order.push('shared'), release));
    const otherExclusive = lock.exclusive().then((release) => (order.push('exclusive'), release));
    const queuedShared = lock.shared().then((release) => (order.push('queued shared'), release));
    await tick();
    expect(order).toEqual([]);
    const reclaim = lock.stepAside();
    const [a, b] = await Promise.all([waitingShared, queuedShared]);
    const newcomer = await lock.shared();
    expect(order).toEqual(['shared', 'queued shared']);
    let reclaimed = false;
    const back = reclaim().then(() => (reclaimed = true));
    const late = lock.shared().then((release) => (order.push('late shared'), release));
    a();
    b();
    await tick();
    expect(reclaimed).toBe(false);
    newcomer();
    await back;
    expect(order).toEqual(['shared', 'queued shared']);
    held();
    (await otherExclusive)();
    (await late)();
    expect(order).toEqual(['shared', 'queued shared', 'exclusive', 'late shared']);
    expect(lock.busy).toBe(false);
  });

  it('exclusiveOrAside: exclusive when free; shared and marked aside while the holder stepped aside', async () => {
    const lock = new ExecutionLock();
    const first = await lock.exclusiveOrAside();
    expect(first.aside).toBe(false);
    let second: { aside: boolean; release: () => void } | undefined;
    const pending = lock.exclusiveOrAside().then((hold) => (second = hold));
    await tick();
    expect(second).toBeUndefined();
    const reclaim = lock.stepAside();
    await pending;
    expect(second!.aside).toBe(true);
    let reclaimed = false;
    const back = reclaim().then(() => (reclaimed = true));
    await tick();
    expect(reclaimed).toBe(false);
    second!.release();
    await back;
    first.release();
    expect(lock.busy).toBe(false);
  });
});
