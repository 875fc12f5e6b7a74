/**
 * The write-behind configuration: one JSON document, given to the library as `TFUNCTION LOAD REPLACE CONFIG`
 * and read by the worker from the same file. Validated by one schema on both sides, so the library and the
 * worker reject the same documents with the same messages, each naming the offending field.
 *
 * Bundled into the gears library (zod/mini keeps that small): keep it free of Node APIs.
 * Credentials never belong here: the document is stored in Redis and shown by TFUNCTION LIST.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { LIBRARY_KEY_NAMESPACE, MAX_PARTITIONS } from './keys.js';

// A field left out is named as missing, not as "expected string, received undefined".
z.config({ ...en(), customError: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined) });

/** Names RedisGears accepts for libraries, functions and triggers. */
const GEARS_NAME = /^[A-Za-z0-9_]+$/;
/** SQL identifiers we accept from config: plain unquoted names, so they can be backquoted safely. */
const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;
/** A table, optionally qualified by its database. */
const SQL_TABLE = /^[A-Za-z_][A-Za-z0-9_$]{0,63}(\.[A-Za-z_][A-Za-z0-9_$]{0,63})?$/;

const identifier = z.string().check(z.regex(SQL_IDENTIFIER, 'must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_$]*, at most 64 characters)'));

const batchSchema = z.strictObject({
  /** Records per batch the stream trigger cuts. */
  size: z._default(z.int().check(z.minimum(1), z.maximum(100_000)), 1000),
  /** Longest a captured record waits before a partial batch is cut. */
  maxDelayMs: z._default(z.int().check(z.minimum(1), z.maximum(600_000)), 100),
});

const writerSchema = z.strictObject({
  /** Names the writer's keys (`wb:changes:{<name>}`) and its trigger; unique in the document. */
  name: z.string().check(z.regex(GEARS_NAME, 'must match [A-Za-z0-9_]+')),
  /** Hashes named `<keysPrefix>:<id>` are captured. */
  keysPrefix: z.string().check(
    z.minLength(1),
    z.refine((p) => !p.includes('*'), 'must be a literal prefix: RedisGears prefixes have no wildcards'),
    z.refine((p) => !p.endsWith(':'), { error: (issue) => `must not end with ':' (the ':' before the id is added: '${String(issue.input).slice(0, -1)}' captures ${String(issue.input)}<id>)` }),
  ),
  table: z.string().check(z.regex(SQL_TABLE, 'must be a SQL table name, optionally qualified as db.table')),
  /** Column(s) that take the id; several columns take the key's `:`-separated parts in order. */
  primaryKey: z.union([identifier, z.array(identifier).check(z.minLength(1), z.maxLength(16))], {
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be a column name or an array of 1 to 16 column names'),
  }),
  /** Hash field → column. */
  mappings: z.record(z.string().check(z.minLength(1), z.refine((f) => f !== '#', "'#' is the flag field and cannot be mapped")), identifier),
  /** What an expired or evicted hash does to its row: `delete` it (default) or `keep` it. */
  onExpire: z._default(z.enum(['delete', 'keep']), 'delete'),
  /**
   * Capture partitions on one Redis (docs/scale-out.md): each has its own capture stream, batches, meta and
   * exactly-once cursor. Absent means 1, today's layout exactly.
   */
  partitions: z.optional(z.int().check(z.minimum(1), z.maximum(MAX_PARTITIONS))),
});

export const configSchema = z
  .strictObject({
    /** Library name: the TFCALL namespace (`<name>.cut`) and the name TFUNCTION LIST shows. */
    name: z.string().check(z.regex(GEARS_NAME, 'must match [A-Za-z0-9_]+ (a RedisGears library name)')),
    writers: z.array(writerSchema).check(z.minLength(1)),
    /** Table of the exactly-once cursors (`id`, `val`); omit for at-least-once. */
    exactlyOnceTable: z.optional(z.string().check(z.regex(SQL_TABLE, 'must be a SQL table name, optionally qualified as db.table'))),
    batch: z._default(batchSchema, { size: 1000, maxDelayMs: 100 }),
    /** Entries kept in each dead-letter stream (approximate, oldest dropped first). */
    deadLetterMaxLen: z._default(z.int().check(z.minimum(100)), 100_000),
  })
  .check(
    z.superRefine((config, ctx) => {
      const names = new Set<string>();
      const prefixes: string[] = [];
      config.writers.forEach((writer, i) => {
        if (names.has(writer.name)) ctx.addIssue({ code: 'custom', path: ['writers', i, 'name'], message: `duplicate writer name '${writer.name}'`, input: writer.name });
        names.add(writer.name);
        const prefix = `${writer.keysPrefix}:`;
        if (prefix.startsWith(LIBRARY_KEY_NAMESPACE) || LIBRARY_KEY_NAMESPACE.startsWith(prefix)) {
          // The capture trigger would fire on the library's own streams and meta hashes.
          ctx.addIssue({ code: 'custom', path: ['writers', i, 'keysPrefix'], message: `keys '${prefix}*' overlap the library's own keys '${LIBRARY_KEY_NAMESPACE}*'`, input: writer.keysPrefix });
        }
        const clash = prefixes.find((p) => p.startsWith(prefix) || prefix.startsWith(p));
        if (clash !== undefined) ctx.addIssue({ code: 'custom', path: ['writers', i, 'keysPrefix'], message: `keys '${prefix}*' overlap keys '${clash}*' of another writer`, input: writer.keysPrefix });
        prefixes.push(prefix);
        // MySQL column names ignore case: `Name` and `name` are one column, and a statement naming it twice fails.
        const keyColumns = primaryKeyColumns(writer).map((c) => c.toLowerCase());
        const seen = new Set<string>(keyColumns);
        if (seen.size !== keyColumns.length) ctx.addIssue({ code: 'custom', path: ['writers', i, 'primaryKey'], message: 'primary key columns must be distinct (column names ignore case)', input: writer.primaryKey });
        for (const [field, column] of Object.entries(writer.mappings)) {
          if (seen.has(column.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['writers', i, 'mappings', field], message: `column '${column}' is mapped twice or is a primary key column (column names ignore case)`, input: column });
          seen.add(column.toLowerCase());
        }
        if (Object.keys(writer.mappings).length === 0) ctx.addIssue({ code: 'custom', path: ['writers', i, 'mappings'], message: 'must map at least one hash field to a column', input: writer.mappings });
      });
      // The cursors are rows (`id`, `val`) upserted beside each commit: in a writer's table they would be rows of its data.
      const cursors = config.exactlyOnceTable?.toLowerCase();
      const i = config.writers.findIndex((writer) => writer.table.toLowerCase() === cursors);
      if (i >= 0) ctx.addIssue({ code: 'custom', path: ['exactlyOnceTable'], message: `'${config.exactlyOnceTable}' is the table of writer '${config.writers[i]!.name}' (writers[${i}].table): the exactly-once cursors need a table of their own`, input: config.exactlyOnceTable });
    }),
  );

export type WriteBehindConfig = z.infer<typeof configSchema>;
export type WriterConfig = WriteBehindConfig['writers'][number];

/** The primary key columns of a writer, in key-part order. */
export function primaryKeyColumns(writer: Pick<WriterConfig, 'primaryKey'>): string[] {
  return typeof writer.primaryKey === 'string' ? [writer.primaryKey] : writer.primaryKey;
}

export type ConfigResult = { ok: true; config: WriteBehindConfig } | { ok: false; message: string };

/**
 * Validates a parsed JSON document. The message lists every problem, each with its path
 * (e.g. `writers[0].table: must be a SQL table name`).
 */
export function parseConfig(input: unknown): ConfigResult {
  const result = configSchema.safeParse(input);
  if (result.success) return { ok: true, config: result.data };
  const message = result.error.issues
    .map((issue) => `${formatPath(issue.path)}: ${issue.message}`)
    .join('; ');
  return { ok: false, message: `invalid write-behind config: ${message}` };
}

function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return '(document)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}
