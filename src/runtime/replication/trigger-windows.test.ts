import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../shared/log.js';
import type { RespValue } from '../resp/types.js';
import type { RedisConnection } from '../server/redis-connection.js';
import { TriggerWindows, type HeldStream } from './trigger-windows.js';

/** A primary's ROLE reply with master_repl_offset `offset`. */
function primaryRole(offset: number): RespValue {
  return { type: 'array', value: [{ type: 'blob', value: Buffer.from('master') }, { type: 'integer', value: BigInt(offset) }, { type: 'array', value: [] }] };
}

/** A control connection whose ROLEs the test answers one by one, in the order they were sent. */
function fakeControl(): { control: RedisConnection; asked: ((reply: RespValue) => void)[] } {
  const asked: ((reply: RespValue) => void)[] = [];
  const control = { send: () => new Promise<RespValue>((resolve) => asked.push(resolve)) } as unknown as RedisConnection;
  return { control, asked };
}

/** A pipe that has read up to `readOffset`; the test moves it as the server's writes reach it. */
function fakePipe(readOffset: number): HeldStream & { readOffset: number } {
  return { readOffset, release: () => undefined };
}

describe('TriggerWindows', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("holds a window's writes though a ROLE that failed before it is asked again while it is open", async () => {
    const { control, asked } = fakeControl();
    const windows = new TriggerWindows(control, silentLogger);
    const pipe = fakePipe(100);
    windows.add(pipe);

    const first = windows.open()!;
    expect(windows.limitFor(pipe.readOffset)).toBe(100);
    pipe.readOffset = 150; // the first window's writes
    first.close();
    expect(asked).toHaveLength(1);
    asked.shift()!({ type: 'error', value: 'BUSY Redis is busy running a script.' });
    await vi.advanceTimersByTimeAsync(0);

    // The next window starts before the retry: its client's write reaches the pipe, its trigger's has not yet.
    const second = windows.open()!;
    if (second.ready !== null) await second.ready;
    pipe.readOffset = 200;
    await vi.advanceTimersByTimeAsync(1_000);
    // A ROLE sent now would answer 200, the client's write without its trigger's.
    for (const answer of asked.splice(0)) answer(primaryRole(200));
    await vi.advanceTimersByTimeAsync(0);
    expect(windows.limitFor(pipe.readOffset), 'the limit while the second window is open').toBeLessThanOrEqual(150);

    pipe.readOffset = 260; // the trigger's write
    second.close();
    expect(asked).toHaveLength(1);
    asked.shift()!(primaryRole(260));
    await vi.advanceTimersByTimeAsync(0);
    expect(windows.limitFor(pipe.readOffset)).toBeNull();
    windows.close();
  });

  it("forwards a confirmed window only once the pipe has read all of it, though ROLE confirms it sooner", async () => {
    const { control, asked } = fakeControl();
    const windows = new TriggerWindows(control, silentLogger);
    const pipe = fakePipe(100);
    windows.add(pipe);

    const first = windows.open()!;
    pipe.readOffset = 139; // the client's write; the trigger's XADD has yet to reach the pipe
    first.close();
    // ROLE is answered after the XADD ran: its offset is past bytes the pipe has not read yet.
    asked.shift()!(primaryRole(207));
    await vi.advanceTimersByTimeAsync(0);
    expect(windows.limitFor(pipe.readOffset), 'before the pipe has read the XADD').toBe(100);

    // The next window opens (and its client's write is read) before the pipe reads the first one's XADD.
    const second = windows.open()!;
    pipe.readOffset = 180;
    expect(windows.limitFor(pipe.readOffset), 'still before the XADD').toBe(100);
    pipe.readOffset = 260; // the first window's XADD and the second's client write
    expect(windows.limitFor(pipe.readOffset), 'with the XADD read').toBe(207);
    second.close();
    asked.shift()!(primaryRole(300));
    await vi.advanceTimersByTimeAsync(0);
    expect(windows.limitFor(pipe.readOffset), "before the second window's trigger write").toBe(207);
    pipe.readOffset = 300;
    expect(windows.limitFor(pipe.readOffset), 'once all is read').toBeNull();

    // Writes outside any window went on; the next window holds from what was read before it.
    pipe.readOffset = 350;
    windows.open();
    expect(windows.limitFor(pipe.readOffset)).toBe(350);
    windows.close();
  });

  it('holds what a replica resyncing mid-window reads, though the pipe it had went away', async () => {
    const { control, asked } = fakeControl();
    const windows = new TriggerWindows(control, silentLogger);
    const removeFirst = windows.add(fakePipe(100));
    const window = windows.open()!;
    // The replica's link drops and it resyncs (+CONTINUE) while the window is open: the backlog it reads
    // holds the window's client write.
    removeFirst();
    const second = fakePipe(100);
    windows.add(second);
    second.readOffset = 139;
    expect(windows.limitFor(second.readOffset), 'while the window is open').not.toBeNull();
    expect(windows.limitFor(second.readOffset)!).toBeLessThanOrEqual(100);

    second.readOffset = 207; // the trigger's write
    window.close();
    asked.shift()!(primaryRole(207));
    await vi.advanceTimersByTimeAsync(0);
    expect(windows.limitFor(second.readOffset)).toBeNull();
    windows.close();
  });
});
