import { describe, expect, it } from 'vitest';
import { ClientPause, isPauseCommand } from './client-pause.js';

const args = (text: string) => text.split(' ').map((part) => Buffer.from(part));

describe('isPauseCommand', () => {
  it('takes CLIENT PAUSE <ms> [mode] and CLIENT UNPAUSE, nothing else', () => {
    expect(isPauseCommand('client', args('CLIENT PAUSE 100'))).toBe(true);
    expect(isPauseCommand('client', args('client pause 100 WRITE'))).toBe(true);
    expect(isPauseCommand('client', args('CLIENT UNPAUSE'))).toBe(true);
    expect(isPauseCommand('client', args('CLIENT PAUSE'))).toBe(false);
    expect(isPauseCommand('client', args('CLIENT PAUSE 100 WRITE x'))).toBe(false);
    expect(isPauseCommand('client', args('CLIENT UNPAUSE x'))).toBe(false);
    expect(isPauseCommand('client', args('CLIENT LIST'))).toBe(false);
  });
});

describe('ClientPause', () => {
  it('is active from a pause until its end or an UNPAUSE, and a shorter pause does not shorten it', async () => {
    const pause = new ClientPause();
    expect(pause.active).toBe(false);
    pause.note(args('CLIENT PAUSE 60 WRITE'));
    pause.note(args('CLIENT PAUSE 1 ALL'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pause.active).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(pause.active).toBe(false);
    pause.note(args('CLIENT PAUSE 100000'));
    pause.note(args('CLIENT UNPAUSE'));
    expect(pause.active).toBe(false);
    // One that EXEC refused (noted ahead of it) leaves the next one counted.
    pause.note(args('CLIENT PAUSE abc WRITE'));
    pause.note(args('CLIENT PAUSE 100000 WRITE'));
    expect(pause.active).toBe(true);
  });
});
