/**
 * Write acknowledgements, as the seed defines them: one entry `status done` in the stream `{<hash key>}<uuid>`,
 * which expires after an hour. The library writes them itself only for changes that never reach the target
 * (`+`, `-`) and for failures; replicated changes are acknowledged by the worker after the MySQL commit.
 */
import { ACK_TTL_SECONDS, ackStreamKey } from '../../src/shared/keys.js';
import { AckField, AckStatus } from '../../src/shared/protocol.js';
import { encodeUtf8 } from '../../src/shared/utf8.js';

/**
 * `hashKey` is the key as text, or its bytes when they are not UTF-8: the client waits on `{<key bytes>}<uuid>`
 * whatever the bytes, so the stream is named by them, not by the hex the dead letter shows.
 */
export function acknowledgeDone(client: GearsClient, hashKey: string | ArrayBuffer, uuid: string): void {
  writeAck(client, ackStream(hashKey, uuid), [AckField.status, AckStatus.done]);
}

export function acknowledgeFailure(client: GearsClient, hashKey: string | ArrayBuffer, uuid: string, reason: string): void {
  writeAck(client, ackStream(hashKey, uuid), [AckField.status, AckStatus.failed, AckField.error, reason]);
}

function ackStream(hashKey: string | ArrayBuffer, uuid: string): GearsArgument {
  if (typeof hashKey === 'string') return ackStreamKey(hashKey, uuid);
  const tail = encodeUtf8(`}${uuid}`);
  const stream = new Uint8Array(1 + hashKey.byteLength + tail.length);
  stream[0] = 0x7b; // '{'
  stream.set(new Uint8Array(hashKey), 1);
  stream.set(tail, 1 + hashKey.byteLength);
  return stream.buffer;
}

function writeAck(client: GearsClient, stream: GearsArgument, fields: string[]): void {
  client.call('XADD', stream, '*', ...fields);
  client.call('EXPIRE', stream, String(ACK_TTL_SECONDS));
}
