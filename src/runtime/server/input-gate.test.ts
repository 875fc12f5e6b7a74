import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { InputGate, QUEUED_COMMANDS_MAX } from './input-gate.js';

function recordingSocket(): { socket: Socket; calls: string[] } {
  const calls: string[] = [];
  const socket = { pause: () => calls.push('pause'), resume: () => calls.push('resume') } as unknown as Socket;
  return { socket, calls };
}

describe('InputGate', () => {
  it('stops reading at QUEUED_COMMANDS_MAX commands waiting and reads again only at half of it', () => {
    const { socket, calls } = recordingSocket();
    const gate = new InputGate(socket, () => false);
    gate.queued(QUEUED_COMMANDS_MAX - 1);
    expect(calls).toEqual([]);
    gate.queued(QUEUED_COMMANDS_MAX);
    expect(calls).toEqual(['pause']);
    gate.queued(QUEUED_COMMANDS_MAX / 2 + 1);
    expect(calls).toEqual(['pause']);
    gate.queued(QUEUED_COMMANDS_MAX / 2);
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('reads again only once no reason holds it, and leaves a released socket alone', () => {
    const { socket, calls } = recordingSocket();
    let released = false;
    const gate = new InputGate(socket, () => released);
    gate.hold('backlog', true);
    gate.queued(QUEUED_COMMANDS_MAX);
    gate.queued(0);
    expect(calls).toEqual(['pause']);
    gate.hold('backlog', false);
    expect(calls).toEqual(['pause', 'resume']);
    released = true;
    gate.hold('backlog', true);
    expect(calls).toEqual(['pause', 'resume']);
  });
});
