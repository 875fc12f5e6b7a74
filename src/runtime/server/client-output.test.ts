import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ClientOutput } from './client-output.js';

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
