/**
 * SQL identifiers come from capture records, i.e. from data: each one is checked against the plain-identifier
 * pattern the config schema enforces before it is backquoted into a statement. Values never go into SQL text.
 */
const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;
const SQL_TABLE = /^[A-Za-z_][A-Za-z0-9_$]{0,63}(\.[A-Za-z_][A-Za-z0-9_$]{0,63})?$/;

export function isSqlIdentifier(name: string): boolean {
  return SQL_IDENTIFIER.test(name);
}

export function isSqlTableName(name: string): boolean {
  return SQL_TABLE.test(name);
}

export function quoteIdentifier(name: string): string {
  if (!isSqlIdentifier(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** `db.table` → `db`.`table`. */
export function quoteTable(table: string): string {
  if (!isSqlTableName(table)) throw new Error(`not a SQL table name: ${JSON.stringify(table)}`);
  return table.split('.').map((part) => `\`${part}\``).join('.');
}
