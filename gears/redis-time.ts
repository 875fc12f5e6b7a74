/** The server clock in milliseconds (TIME), the same clock stream ids created with `*` carry. */
import { replyArray, replyString } from './replies.js';

export function serverTimeMs(client: GearsClient): number {
  const [seconds, micros] = replyArray(client.call('TIME'), 'TIME');
  if (seconds === undefined || micros === undefined) throw 'ERR TIME replied a short array';
  return Number(replyString(seconds, 'TIME')) * 1000 + Math.floor(Number(replyString(micros, 'TIME')) / 1000);
}
