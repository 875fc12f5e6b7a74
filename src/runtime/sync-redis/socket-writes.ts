/**
 * Synchronous writes to sockets' file descriptors.
 *
 * writeToSocket: to a socket libuv also writes, straight to its file descriptor whenever the stream has nothing
 * queued: the same write(2) a stream write ends in, without the stream's machinery around it (a write request,
 * its callbacks, a tick). What the descriptor does not take then goes through the stream, behind the bytes
 * written, so the order holds; so does everything written while the stream still holds bytes.
 *
 * writeFully: every byte to a descriptor only the caller writes, waiting while its send buffer is full.
 */
import type { Socket } from 'node:net';
import { writeSync } from 'node:fs';
import { waitWritable } from './socket-reads.js';

export function writeToSocket(socket: Socket, bytes: Buffer): void {
  // The descriptor is looked up each time: a destroyed socket has no handle, and its number may belong to
  // another socket by now.
  const fd = socket.writable && socket.writableLength === 0 && !socket.connecting ? handleDescriptor(socket) : -1;
  const written = fd < 0 ? 0 : writeNow(fd, bytes);
  if (written === bytes.length) return;
  socket.write(written === 0 ? bytes : bytes.subarray(written));
}

function handleDescriptor(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

/** Bytes the descriptor took; 0 when it took none or failed (the stream's write then reports the failure). */
function writeNow(fd: number, bytes: Buffer): number {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return writeSync(fd, bytes, 0, bytes.length);
  } catch {
    return 0;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/**
 * Writes all of `bytes` to a non-blocking descriptor, waiting (not spinning) while its send buffer is full.
 * Failures other than EAGAIN throw.
 */
export function writeFully(fd: number, bytes: Buffer): void {
  let rest = bytes;
  for (let idle = 0; ; ) {
    let written: number;
    try {
      written = writeSync(fd, rest, 0, rest.length);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      waitWritable(fd, idle++);
      continue;
    }
    idle = 0;
    if (written === rest.length) return;
    rest = rest.subarray(written);
  }
}
