/** Every CLI command, in the order `--help` lists them. Add a command here and in its own file. */
import type { Command } from 'commander';
import { deployCommand } from './deploy.js';

export const commands: Command[] = [deployCommand];
