/**
 * The defaults most commands share, for their help and their option schemas. Plain constants on purpose: every
 * command file imports them, and `--help` loads every command file.
 */

/** The local runtime's port: `writebehind runtime` listens there by default. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6380';
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';
/** The write-behind configuration file. */
export const DEFAULT_CONFIG_PATH = 'config/example.json';
