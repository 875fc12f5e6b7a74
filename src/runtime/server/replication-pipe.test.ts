import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log.js';
import { TriggerWindows } from '../replication/trigger-windows.js';
import type { RespValue } from '../resp/types.js';
import type { RedisConnection } from './redis-connection.js';
import { pipeReplication } from './replication-pipe.js';
import type { UpstreamLink } from './upstream-link.js';

/** The replica's socket: records each batch of bytes that reaches the kernel at once (writes inside a cork are one). */
class FakeReplica extends EventEmitter {
  readonly batches: string[] = [];
  #corked = 0;
  #pending = '';
  write(bytes: Buffer): boolean {
    if (this.#corked > 0) this.#pending += bytes.toString('latin1');
    else this.batches.push(bytes.toString('latin1'));
    return true;
  }
  cork(): void {
    this.#corked++;
  }
  uncork(): void {
    if (--this.#corked > 0 || this.#pending === '') return;
    this.batches.push(this.#pending);
    this.#pending = '';
  }
  pipe(): void {}
  resume(): void {}
  end(): void {}
}

/** redis-server's side of the replica's connection. */
class FakeServer extends EventEmitter {
  write(): boolean {
    return true;
  }
  pause(): void {}
  resume(): void {}
  destroy(): void {}
}

describe('pipeReplication', () => {
  it("sends a held window to the replica in one write, so it cannot apply the client's write alone", async () => {
    const asked: ((reply: RespValue) => void)[] = [];
    const control = { send: () => new Promise<RespValue>((resolve) => asked.push(resolve)) } as unknown as RedisConnection;
    const windows = new TriggerWindows(control, silentLogger);
    const replica = new FakeReplica();
    const server = new FakeServer();
    const link = { drained: async () => undefined, detach: () => server } as unknown as UpstreamLink;
    const psync = ['PSYNC', 'replid', '101'].map((word) => Buffer.from(word));
    await pipeReplication(replica as unknown as Socket, link, () => undefined, Buffer.from('PSYNC replid 101\r\n'), psync, windows, silentLogger);

    server.emit('data', Buffer.from('+CONTINUE\r\n*1\r\n$4\r\nPING\r\n')); // offsets 101-114, before any window
    const window = windows.open()!;
    server.emit('data', Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n')); // the client's write: 115-141
    server.emit('data', Buffer.from('*3\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n')); // the trigger's: 142-169
    window.close();
    asked.shift()!({ type: 'array', value: [{ type: 'blob', value: Buffer.from('master') }, { type: 'integer', value: 169n }, { type: 'array', value: [] }] });
    await new Promise((resolve) => setImmediate(resolve));

    expect(replica.batches).toEqual([
      '+CONTINUE\r\n',
      '*1\r\n$4\r\nPING\r\n',
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*3\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n',
    ]);
    windows.close();
  });
});
