/**
 * `writebehind start` on a fresh machine: the MySQL database and the example config's tables are created when
 * missing (never altered or dropped), so the Quick start works with nothing but a running MySQL.
 */
import mysql from 'mysql2/promise';
import type { WriteBehindConfig } from '../../shared/config.js';
import { errorMessage } from '../../shared/errors.js';
import { redactUrl } from '../../shared/redact-url.js';
import { MysqlWriteError } from '../../worker/mysql/mysql-write-error.js';
import { quoteIdentifier, quoteTable } from '../../worker/mysql/sql-identifiers.js';
import { databaseOfUrl } from '../../worker/mysql/mysql-pool.js';

/** The tables of config/example.json (the seed's persons and cars). */
const EXAMPLE_TABLES: Readonly<Record<string, string>> = {
  persons: '(person_id VARCHAR(64) NOT NULL PRIMARY KEY, first VARCHAR(255), last VARCHAR(255), age INT)',
  cars: '(car_id VARCHAR(64) NOT NULL PRIMARY KEY, id VARCHAR(255), color VARCHAR(255))',
};

/** Creates the URL's database and the example tables the config names; returns the tables it created. */
export async function createExampleTables(mysqlUrl: string, config: WriteBehindConfig): Promise<string[]> {
  const database = databaseOfUrl(mysqlUrl);
  const server = new URL(mysqlUrl);
  server.pathname = '/';
  const connection = await mysql.createConnection({ uri: server.toString(), connectTimeout: 10_000 }).catch((cause: unknown) => {
    throw new MysqlWriteError(`cannot use MySQL at ${redactUrl(mysqlUrl)}: ${errorMessage(cause)}`, { cause, context: { suggestion: 'start MySQL, or fix --mysql / MYSQL_URL and its password' } });
  });
  try {
    if (database !== undefined) {
      await connection.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)}`);
      await connection.query(`USE ${quoteIdentifier(database)}`);
    }
    const created: string[] = [];
    for (const writer of config.writers) {
      const columns = EXAMPLE_TABLES[writer.table];
      if (columns === undefined) continue;
      const [rows] = await connection.query('SHOW TABLES LIKE ?', [writer.table]);
      if ((rows as unknown[]).length > 0) continue;
      await connection.query(`CREATE TABLE ${quoteTable(writer.table)} ${columns}`);
      created.push(writer.table);
    }
    return created;
  } finally {
    await connection.end();
  }
}
