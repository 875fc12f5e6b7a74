/** A Redis stream entry id, compared numerically. */
export interface StreamId {
  readonly ms: bigint;
  readonly seq: bigint;
}

export function parseStreamId(text: string): StreamId {
  const [ms = '0', seq = '0'] = text.split('-');
  return { ms: BigInt(ms), seq: BigInt(seq) };
}

export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function compareStreamIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}
