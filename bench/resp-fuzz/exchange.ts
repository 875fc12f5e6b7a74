/**
 * One case of the differential fuzz on one fresh connection: its writes sent with their delays, everything the
 * server sends back collected, and how the connection ended. A case ends when the server closed the connection,
 * or when nothing more came for a quiet period after the last write. Against the runtime, the case waits up to
 * HANG_MS for what redis-server sent (its byte count, its close): less than that by then is a hang.
 */
import { connect } from 'node:net';
import { sleep } from '../support/sleep.js';
import type { Write } from './generate.js';

export interface Outcome {
  readonly bytes: Buffer;
  /** The server closed the connection (FIN or reset), and after how many reply bytes. */
  readonly closed: boolean;
  /** What ended it: 'end' (FIN), an error code (ECONNRESET), or null while open. */
  readonly closedHow: string | null;
  /** Against the runtime: less than redis-server sent, or not closed where it closed, after HANG_MS. */
  readonly hung: boolean;
  /** What the case's second connection received (a publisher's, a pusher's replies); empty when it has none. */
  readonly other: Buffer;
}

export interface ExchangeOptions {
  /** Quiet period that ends the case; QUIET_MS by default. */
  readonly quietMs?: number;
  /** How long after the last write the runtime may take to send what redis-server sent; HANG_MS by default. */
  readonly hangMs?: number;
  /** Against the runtime: whether it still owes part of `expected` (default: fewer bytes on either connection). */
  readonly owed?: (received: Buffer, expected: Outcome) => boolean;
}

/** Nothing more is expected once nothing came for this long after the last write or reply byte. */
const QUIET_MS = 60;
/** What redis-server sent must come from the runtime within this (the brief's "hang"). */
export const HANG_MS = 2000;

export async function exchange(port: number, writes: readonly (Omit<Write, 'conn'> & { conn?: 0 | 1 })[], expected?: Outcome, options: ExchangeOptions = {}): Promise<Outcome> {
  const quietMs = options.quietMs ?? QUIET_MS;
  const socket = connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  let received = 0;
  let closedHow: string | null = null;
  let lastActivity = performance.now();
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
    lastActivity = performance.now();
  });
  socket.on('end', () => (closedHow ??= 'end'));
  socket.on('error', (error: NodeJS.ErrnoException) => (closedHow ??= error.code ?? 'error'));
  socket.on('close', () => (closedHow ??= 'close'));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  // The second connection, when the case has writes for it; its replies are compared too.
  const otherChunks: Buffer[] = [];
  let otherReceived = 0;
  const other = writes.some((w) => w.conn === 1) ? connect({ port, host: '127.0.0.1' }) : undefined;
  if (other !== undefined) {
    other.setNoDelay(true);
    other.on('data', (chunk: Buffer) => {
      otherChunks.push(chunk);
      otherReceived += chunk.length;
      lastActivity = performance.now();
    });
    other.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      other.once('connect', resolve);
      other.once('error', reject);
    });
  }
  for (const write of writes) {
    if (write.delayMs > 0) await sleep(write.delayMs);
    if (write.conn === 1) {
      other?.write(write.bytes);
      lastActivity = performance.now();
      continue;
    }
    if (closedHow !== null) continue;
    socket.write(write.bytes);
    lastActivity = performance.now();
  }
  const lastWrite = performance.now();
  let hung = false;
  for (;;) {
    await sleep(5);
    // A closed connection is over, unless the second one may still get replies.
    if (closedHow !== null && other === undefined) break;
    const quiet = performance.now() - lastActivity >= quietMs;
    if (expected === undefined) {
      if (quiet) break;
      continue;
    }
    const stillOwed = options.owed?.(Buffer.concat(chunks), expected) ?? (received < expected.bytes.length || otherReceived < expected.other.length);
    const owed = stillOwed || (expected.closed && closedHow === null);
    if (!owed && quiet) break;
    if (owed && performance.now() - lastWrite > (options.hangMs ?? HANG_MS)) {
      hung = stillOwed;
      break;
    }
  }
  socket.destroy();
  other?.destroy();
  return { bytes: Buffer.concat(chunks), closed: closedHow !== null, closedHow, hung, other: Buffer.concat(otherChunks) };
}

/**
 * What may differ between the two servers and is no divergence: the connection id in a HELLO reply (the runtime's
 * own connections take ids on its server).
 */
export function normalized(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/(\$2\r\nid\r\n):\d+\r\n/g, '$1:<id>\r\n');
}

export function sameOutcome(direct: Outcome, proxied: Outcome): boolean {
  return !proxied.hung && direct.closed === proxied.closed && normalized(direct.bytes) === normalized(proxied.bytes) && normalized(direct.other) === normalized(proxied.other);
}

const RESETS = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Both closed, one side with a reset, and what it received is the start of what the other side received: the
 * case wrote on after the server closed (after QUIT or a protocol error), the reset that answered the write
 * discarded replies its socket had not read yet. Whether it came before them is timing (redis-server closes
 * within microseconds, the runtime a round trip later), not something the runtime sent differently.
 */
export function lostToReset(direct: Outcome, proxied: Outcome): boolean {
  if (!direct.closed || !proxied.closed || proxied.hung) return false;
  const [d, p] = [normalized(direct.bytes), normalized(proxied.bytes)];
  return (RESETS.has(direct.closedHow ?? '') && p.startsWith(d)) || (RESETS.has(proxied.closedHow ?? '') && d.startsWith(p));
}
