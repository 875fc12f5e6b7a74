/**
 * The shape of a capture record: its table, key column names and column names, in the record's order. Records
 * of one writer almost all share one shape, so a shape is built once and shared (interned): the batch writer
 * keys its per-shape work (schema checks, column order, statement groups) on the object, and a record carries
 * only its values. Names arrive as bytes (format 2) or text (format 1); both find the same shape.
 *
 * @internal
 */

export interface RecordShape {
  readonly table: string;
  readonly keyColumns: readonly string[];
  /** Mapped columns, NULL ones included; empty for deletes. */
  readonly columns: readonly string[];
  /**
   * Names as UTF-8, key columns then columns: a format-2 record is matched against them byte by byte, so a
   * record of a known shape builds no string.
   */
  readonly nameBytes: readonly Buffer[];
  readonly tableBytes: Buffer;
  /**
   * The row's identity without its values: table and key column names, length-prefixed (unambiguous), so
   * changes of one row coalesce whatever their shapes or record formats.
   */
  readonly rowPrefix: string;
  /** Value indexes of the key columns, ordered by column name (the order of a composite row identity). */
  readonly keyOrder: readonly number[];
}

/** Distinct shapes kept for reuse: far more than the writers of one worker ever produce. */
const MAX_SHAPES = 1024;

const shapes = new Map<string, RecordShape | string>();

/**
 * The shape with these names, or why they cannot make one (a name given twice: statements would name the
 * column twice and a Map-based reading would silently drop one of the values).
 */
export function internShape(table: string, keyColumns: readonly string[], columns: readonly string[]): RecordShape | string {
  let id = `${table.length}:${table}|`;
  for (const name of keyColumns) id += `${name.length}:${name}`;
  id += '|';
  for (const name of columns) id += `${name.length}:${name}`;
  let shape = shapes.get(id);
  if (shape === undefined) {
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    shape = buildShape(table, keyColumns, columns);
    shapes.set(id, shape);
  }
  return shape;
}

function buildShape(table: string, keyColumns: readonly string[], columns: readonly string[]): RecordShape | string {
  const names = [...keyColumns, ...columns];
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) return `malformed record: column '${twice}' is given twice`;
  const keyOrder = keyColumns.map((_, i) => i).sort((a, b) => (keyColumns[a]! < keyColumns[b]! ? -1 : keyColumns[a]! > keyColumns[b]! ? 1 : 0));
  let rowPrefix = `${table.length}:${table}|`;
  for (const i of keyOrder) rowPrefix += `${keyColumns[i]!.length}:${keyColumns[i]!}|`;
  return Object.freeze({
    table,
    keyColumns: Object.freeze([...keyColumns]),
    columns: Object.freeze([...columns]),
    nameBytes: Object.freeze(names.map((name) => Buffer.from(name, 'utf8'))),
    tableBytes: Buffer.from(table, 'utf8'),
    rowPrefix,
    keyOrder: Object.freeze(keyOrder),
  });
}
