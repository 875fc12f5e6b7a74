#!/usr/bin/env node
/**
 * The `writebehind` CLI. Each command lives in commands/<name>.ts and exports its Command; commands throw,
 * and only main() turns an error into a message and an exit code.
 */
import { Command } from 'commander';
import { VERSION } from '../shared/version.js';
import { handleError } from './handle-error.js';
import { commands } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('writebehind')
    .description('Write-behind from Redis hashes to MySQL tables on RedisGears 2 (Triggers and Functions)')
    .version(VERSION)
    .showHelpAfterError();
  for (const command of commands) program.addCommand(command);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    process.exitCode = handleError(error);
  }
}

await main();
