import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'gears/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/stack/**', 'node_modules/**', 'dist/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    setupFiles: ['test/setup/exit-on-sigterm.ts'],
    // Two cores: two test files at a time, each on its own redis-server and its own MariaDB database.
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
