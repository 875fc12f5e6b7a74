import { describe, expect, it } from 'vitest';
import { pubsubMessageParts } from './pubsub-message.js';

const frame = (text: string) => Buffer.from(text, 'latin1');
const texts = (parts: Buffer[] | null) => parts?.map((p) => p.toString('latin1')) ?? null;

describe('pubsubMessageParts', () => {
  it('reads a pmessage and a message as their bulks, binary keys included', () => {
    expect(texts(pubsubMessageParts(frame('*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@*__:*\r\n$19\r\n__keyevent@0__:hset\r\n$5\r\na\r\nb\xff\r\n')))).toEqual(['pmessage', '__keyevent@*__:*', '__keyevent@0__:hset', 'a\r\nb\xff']);
    expect(texts(pubsubMessageParts(frame('*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$0\r\n\r\n')))).toEqual(['message', 'ch', '']);
  });

  it('refuses what is not a multibulk of bulks: integers, errors, nested or null parts', () => {
    expect(pubsubMessageParts(frame(':1\r\n'))).toBeNull();
    expect(pubsubMessageParts(frame('-ERR x\r\n'))).toBeNull();
    expect(pubsubMessageParts(frame('*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n'))).toBeNull();
    expect(pubsubMessageParts(frame('*2\r\n$1\r\na\r\n$-1\r\n'))).toBeNull();
    expect(pubsubMessageParts(frame('*1\r\n*1\r\n$1\r\na\r\n'))).toBeNull();
  });
});
