#!/usr/bin/env node
/**
 * The `writebehind` CLI. Each command lives in commands/<name>.ts and exports its Command; commands throw,
 * and only main() turns an error into a message and an exit code.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../shared/version.js';
import { handleError } from './handle-error.js';
import { commands } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('writebehind')
    .description('Write-behind from Redis hashes to MySQL tables on RedisGears 2 (Triggers and Functions)')
    .version(VERSION)
    .showHelpAfterError();
  for (const command of commands) program.addCommand(command);
  // Commander exits 1 on a usage error it finds itself (an unknown option or command, a missing argument), and
  // handle-error.ts exits 2 on one the options' schemas find: thrown here instead, so both exit 2.
  for (const command of [program, ...commands]) command.exitOverride();
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    // Commander has printed its message (and the help after it); --help and --version come here with 0.
    if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
    else process.exitCode = handleError(error);
  }
}

await main();
