import { describe, expect, it } from 'vitest';
import { HeapRelease } from './heap-release.js';

/** A WeakRef to an object nothing else holds: it clears only when a collection runs. */
function unreachable(): WeakRef<object> {
  return new WeakRef({ payload: Buffer.alloc(1024) });
}

/** A WeakRef's target is kept until the job that made (or read) it ends. */
const nextJob = () => new Promise((r) => setTimeout(r, 0));

describe('HeapRelease', () => {
  it('collects once everyBytes were read, and when idle after idleBytes, not before', async () => {
    const release = new HeapRelease({ everyBytes: 1000, idleBytes: 100 });
    const first = unreachable();
    await nextJob();
    release.read(999);
    release.idle(); // 999 ≥ 100: collects
    expect(first.deref()).toBeUndefined();

    const second = unreachable();
    await nextJob();
    release.read(50);
    release.idle(); // 50 < 100: nothing
    expect(second.deref()).toBeDefined();
    await nextJob();
    release.read(950); // 1000 since the last collection
    expect(second.deref()).toBeUndefined();
  });

  it('collects when idle after a drain even if a collection ran during it: the last records read outlive that one', async () => {
    const release = new HeapRelease({ everyBytes: 1000, idleBytes: 100 });
    release.read(1000); // a collection in the drain, while its last part is still being committed
    const lastPart = unreachable(); // dropped after that commit
    await nextJob();
    release.idle();
    expect(lastPart.deref()).toBeUndefined();
  });
});
