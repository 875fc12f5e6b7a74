/**
 * A MariaDB/MySQL database of the test file's own on the local server (MYSQL_URL, default
 * mysql://root@127.0.0.1:3306): created in beforeAll, dropped in afterAll.
 */
import mysql from 'mysql2/promise';

export const MYSQL_ADMIN_URL = process.env['MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';

export interface TestDatabase {
  readonly name: string;
  /** URL of the test database, for the worker. */
  readonly url: string;
  readonly pool: mysql.Pool;
  query<T = mysql.RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  drop(): Promise<void>;
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `${process.env['WB_TEST_DB_PREFIX'] ?? 'wbtest_'}${label.replace(/[^A-Za-z0-9_]/g, '_')}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const admin = await mysql.createConnection(MYSQL_ADMIN_URL);
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  const url = new URL(MYSQL_ADMIN_URL);
  url.pathname = `/${name}`;
  const pool = mysql.createPool({ uri: url.toString(), connectionLimit: 4, multipleStatements: true });
  return {
    name,
    url: url.toString(),
    pool,
    async query<T>(sql: string, params: unknown[] = []) {
      const [rows] = await pool.query(sql, params);
      return rows as T;
    },
    async drop() {
      await pool.end();
      const conn = await mysql.createConnection(MYSQL_ADMIN_URL);
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}
