/**
 * The slice of mysql2 the worker uses, behind a narrow interface (a session = one pooled connection), plus the
 * adapter over a mysql2 pool. Every session runs in strict SQL mode, so a value that does not fit its column is
 * an error instead of a silent truncation or a zero.
 */
import mysql from 'mysql2/promise';

export interface MysqlSession {
  /** Server connection id (for logs and for KILL in tests). */
  readonly threadId: number | null;
  /** Runs one statement; `?` placeholders are filled by the driver (Buffers as hex literals, twice their size). */
  query<T = unknown>(sql: string, values?: readonly unknown[]): Promise<T>;
  /**
   * Runs one statement as a server-side prepared statement (cached per connection): values travel raw in the
   * binary protocol, so a large value costs its own size on the wire, not twice that.
   */
  execute<T = unknown>(sql: string, values: readonly unknown[]): Promise<T>;
  /** Returns the connection to the pool. */
  release(): void;
  /** Closes the connection instead of reusing it (after a connection error or an unknown transaction state). */
  destroy(): void;
}

export interface MysqlPool {
  session(): Promise<MysqlSession>;
  end(): Promise<void>;
}

/**
 * Strict mode for every session. NO_BACKSLASH_ESCAPES must stay off: mysql2 escapes values client side with
 * backslashes, which is only safe when the server reads them as escapes.
 */
export const WORKER_SQL_MODE = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

export interface MysqlPoolOptions {
  /** mysql://user:password@host:port/database */
  url: string;
  /** @defaultValue 4 */
  connectionLimit?: number;
}

export function createMysqlPool(options: MysqlPoolOptions): MysqlPool {
  const pool = mysql.createPool({
    uri: options.url,
    connectionLimit: options.connectionLimit ?? 4,
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    connectTimeout: 10_000,
    enableKeepAlive: true,
    // Prepared: statements of a few row counts per shape (statement-planner.ts isPreparedSize) and rows too
    // large for a text statement; the cap keeps a connection's server statements (max_prepared_stmt_count is
    // server-wide) few even with many shapes (the least recently used is closed).
    maxPreparedStatements: 64,
  });
  const initialised = new WeakSet<object>();
  return {
    async session() {
      const connection = await pool.getConnection();
      const core = (connection as unknown as { connection: object }).connection;
      if (!initialised.has(core)) {
        try {
          await connection.query('SET SESSION sql_mode = ?', [WORKER_SQL_MODE]);
        } catch (error) {
          connection.destroy();
          throw error;
        }
        initialised.add(core);
      }
      return {
        threadId: connection.threadId,
        async query<T>(sql: string, values: readonly unknown[] = []) {
          const [result] = await connection.query(sql, values as unknown[]);
          return result as T;
        },
        async execute<T>(sql: string, values: readonly unknown[]) {
          const [result] = await connection.execute(sql, values as Parameters<typeof connection.execute>[1]);
          return result as T;
        },
        release: () => connection.release(),
        destroy: () => connection.destroy(),
      };
    },
    end: () => pool.end(),
  };
}

/** The database named in a MySQL URL (the default schema of unqualified tables). */
export function databaseOfUrl(url: string): string | undefined {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return name === '' ? undefined : name;
}
