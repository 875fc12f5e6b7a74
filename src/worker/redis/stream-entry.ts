/**
 * One stream entry as the worker sees it: the id, and the field/value pairs in their stream order. Values stay
 * raw bytes, because a captured hash field may hold binary data that a UTF-8 round trip would corrupt.
 */
export interface StreamEntry {
  readonly id: string;
  readonly fields: ReadonlyArray<readonly [string, Buffer]>;
}

/** The value of `field` as UTF-8 text, or undefined when the entry lacks it. */
export function entryText(entry: StreamEntry, field: string): string | undefined {
  const pair = entry.fields.find(([name]) => name === field);
  return pair === undefined ? undefined : pair[1].toString('utf8');
}
