/** A pino logger whose lines a test reads back, parsed, in the order they were logged. */
import { Writable } from 'node:stream';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export function recordedLog<Line = Record<string, unknown>>(level: LevelWithSilent): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = pino({ level }, new Writable({ write: (chunk: Buffer, _enc, done) => { lines.push(JSON.parse(chunk.toString()) as Line); done(); } }));
  return { log, lines };
}
