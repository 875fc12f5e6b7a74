import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CLIENT_OWED_CAP, ClientOutput } from './client-output.js';

/** A socket that records its writes. */
function recordingSocket(): { socket: Socket; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const socket = { destroyed: false, write: (bytes: Buffer) => writes.push(bytes), cork: () => undefined, uncork: () => undefined } as unknown as Socket;
  return { socket, writes };
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));

describe('ClientOutput', () => {
  it("writes the replies filled in one tick with one write, and replies framed from one chunk without copying them", async () => {
    const { socket, writes } = recordingSocket();
    const output = new ClientOutput(socket);
    const chunk = Buffer.from(':1\r\n'.repeat(16));
    const slots = Array.from({ length: 16 }, () => output.reserve(true));
    slots.forEach((slot, i) => output.fill(slot, chunk.subarray(4 * i, 4 * i + 4)));
    await tick();
    expect(writes).toHaveLength(1);
    expect(writes[0]!.toString()).toBe(chunk.toString());
    expect(writes[0]!.buffer).toBe(chunk.buffer);
  });

  it('keeps the order across held slots and separate buffers, and leaves out muted replies', async () => {
    const { socket, writes } = recordingSocket();
    const output = new ClientOutput(socket);
    const first = output.reserve(true, true);
    const muted = output.reserve(true, false, true);
    const last = output.reserve(false);
    output.fill(last, Buffer.from('+c\r\n'));
    output.fill(muted, Buffer.from('+b\r\n'));
    output.fill(first, Buffer.from('+a\r\n'));
    await tick();
    expect(writes).toHaveLength(0);
    output.release(first);
    await tick();
    expect(Buffer.concat(writes).toString()).toBe('+a\r\n+c\r\n');
    expect(writes).toHaveLength(1);
  });
});

describe('ClientOutput against client-output-buffer-limit normal', () => {
  /** A socket whose kernel takes nothing: every byte written stays in writableLength. */
  function stuckSocket(): Socket {
    const socket = { destroyed: false, writableLength: 0, once: () => socket, cork: () => undefined, uncork: () => undefined } as unknown as Socket & { writableLength: number };
    (socket as unknown as { write: (bytes: Buffer) => boolean }).write = (bytes: Buffer) => {
      socket.writableLength += bytes.length;
      return false;
    };
    return socket;
  }

  it('reports the hard limit once what the client has not taken reaches it, and not before', async () => {
    const reached: string[] = [];
    const output = new ClientOutput(stuckSocket(), undefined, () => ({ hard: 1000, soft: 0, softSeconds: 0 }), (limit) => reached.push(limit));
    output.fill(output.reserve(true), Buffer.alloc(999));
    await tick();
    expect(reached).toEqual([]);
    output.fill(output.reserve(true), Buffer.alloc(1));
    await tick();
    expect(reached).toEqual(['hard']);
  });

  it('reports the soft limit once past it for longer than its seconds', async () => {
    const reached: string[] = [];
    const output = new ClientOutput(stuckSocket(), undefined, () => ({ hard: 0, soft: 100, softSeconds: 0.05 }), (limit) => reached.push(limit));
    output.fill(output.reserve(true), Buffer.alloc(200));
    await tick();
    output.fill(output.reserve(true), Buffer.alloc(1));
    await tick();
    expect(reached).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    output.fill(output.reserve(true), Buffer.alloc(1));
    await tick();
    expect(reached).toEqual(['soft']);
  });

  it("reports the runtime's own cap on what a client is owed, with no server limit set", async () => {
    const reached: string[] = [];
    const output = new ClientOutput(stuckSocket(), undefined, undefined, (limit) => reached.push(limit));
    const reply = 1024 * 1024;
    // The cap counts what is owed beyond the largest reply: many replies, none of them large.
    for (let owed = 0; owed < CLIENT_OWED_CAP; owed += reply) output.fill(output.reserve(true), Buffer.alloc(reply));
    await tick();
    expect(reached).toEqual([]);
    output.fill(output.reserve(true), Buffer.alloc(reply));
    await tick();
    expect(reached).toEqual(['runtime']);
  });

  it('never cuts one reply larger than the cap (an HGETALL of a 72 MB hash), which redis-server sends whole under normal 0 0 0', async () => {
    const reached: string[] = [];
    const output = new ClientOutput(stuckSocket(), undefined, undefined, (limit) => reached.push(limit));
    output.fill(output.reserve(true), Buffer.alloc(CLIENT_OWED_CAP + 8 * 1024 * 1024));
    await tick();
    output.fill(output.reserve(true), Buffer.alloc(5));
    await tick();
    expect(reached).toEqual([]);
  });

  it('holds back sending while the replies in flight, at the size guessed from those seen, would pass the budget', async () => {
    const output = new ClientOutput(stuckSocket());
    // Nothing seen yet: 16 KB a reply, so 16 in flight fill the 256 KB budget.
    expect(output.maySend(15)).toBe(true);
    expect(output.maySend(16)).toBe(false);
    // One reply of 200 KB: one in flight at a time (none in flight: one may always go).
    output.fill(output.reserve(true), Buffer.alloc(200 * 1024));
    expect(output.maySend(1)).toBe(false);
    expect(output.maySend(0)).toBe(true);
    await tick();
    // Backlogged (more than 256 KB in the socket): nothing goes until it drains.
    output.fill(output.reserve(true), Buffer.alloc(100 * 1024));
    await tick();
    expect(output.backlogged).toBe(true);
    expect(output.maySend(0)).toBe(false);
  });
});
