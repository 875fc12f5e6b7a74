/**
 * Write acknowledgements, as the seed defines them: one entry `status done` in the stream `{<hash key>}<uuid>`,
 * which expires after an hour. The library writes them itself only for changes that never reach the target
 * (`+`, `-`) and for failures; replicated changes are acknowledged by the worker after the MySQL commit.
 */
import { ACK_TTL_SECONDS, ackStreamKey } from '../../src/shared/keys.js';
import { AckField, AckStatus } from '../../src/shared/protocol.js';

export function acknowledgeDone(client: GearsClient, hashKey: string, uuid: string): void {
  writeAck(client, ackStreamKey(hashKey, uuid), [AckField.status, AckStatus.done]);
}

export function acknowledgeFailure(client: GearsClient, hashKey: string, uuid: string, reason: string): void {
  writeAck(client, ackStreamKey(hashKey, uuid), [AckField.status, AckStatus.failed, AckField.error, reason]);
}

function writeAck(client: GearsClient, stream: string, fields: string[]): void {
  client.call('XADD', stream, '*', ...fields);
  client.call('EXPIRE', stream, String(ACK_TTL_SECONDS));
}
