/**
 * `writebehind start` logs as the two commands it combines: the runtime's lines (also those of its parts, such as
 * a library's `redis.log`) and the worker's, one JSON object per line with each key once.
 */
import { afterEach, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { spawnCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { until } from '../helpers/until.js';

let child: ChildProcess | undefined;
let server: RedisServer | undefined;
let db: TestDatabase | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) {
    const gone = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
  await server?.stop();
  await db?.drop();
});

it("a library's redis.log under start is one JSON line naming its component once", async () => {
  server = await startRedisServer();
  db = await createTestDatabase('start_logs');
  child = spawnCli(['start', '--redis', server.url, '--port', '0', '--mysql', db.url], { LOG_LEVEL: 'info' });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const port = Number((await until(async () => /RedisGears runtime on redis:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1], (p) => p !== undefined, 20_000))!);

  const socket = await RespSocket.open(port);
  socket.send(['TFUNCTION', 'LOAD', "#!js api_version=1.0 name=logs\nredis.log('hello from a library');\nredis.registerFunction('f', () => 1);"]);
  expect(await socket.readBytes(1)).toBe('+OK\r\n');
  socket.close();

  const line = await until(async () => stdout.split('\n').find((l) => l.includes('hello from a library')), (l) => l !== undefined, 10_000);
  expect(JSON.parse(line!)).toMatchObject({ level: 'info', component: 'library-host' });
  expect(line!.match(/"component":/g), line).toHaveLength(1);
}, 60_000);
