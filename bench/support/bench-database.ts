/**
 * A MariaDB/MySQL database of the bench's own on the shared server (MYSQL_URL, default
 * mysql://root@127.0.0.1:3306): created at start, dropped at the end, so a run leaves nothing behind and never
 * touches another engineer's database.
 */
import mysql from 'mysql2/promise';

export const MYSQL_ADMIN_URL = process.env['MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/';

export interface BenchDatabase {
  readonly name: string;
  /** URL of the bench database, for the worker and for connections of the scenarios. */
  readonly url: string;
  /** A connection for setup, truncation and checks (not for the measured writes). */
  readonly admin: mysql.Connection;
  query<T = mysql.RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  drop(): Promise<void>;
}

export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const name = `wbbench_${label.replace(/[^A-Za-z0-9_]/g, '_')}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const url = new URL(MYSQL_ADMIN_URL);
  url.pathname = '/';
  const admin = await mysql.createConnection({ uri: url.toString(), multipleStatements: true });
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.query(`USE \`${name}\``);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    admin,
    async query<T>(sql: string, params: unknown[] = []) {
      const [rows] = await admin.query(sql, params);
      return rows as T;
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

/** The server's version and the settings that decide commit cost, for the machine section of the results. */
export async function describeMysqlServer(db: BenchDatabase): Promise<Record<string, string>> {
  const rows = await db.query<mysql.RowDataPacket[]>(
    "SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush, @@log_bin AS log_bin, @@innodb_buffer_pool_size AS pool",
  );
  const row = rows[0]!;
  return {
    version: String(row['version']),
    innodbFlushLogAtTrxCommit: String(row['flush']),
    logBin: String(row['log_bin']),
    innodbBufferPoolBytes: String(row['pool']),
  };
}
