/** Every CLI command, in the order `--help` lists them. Add a command here and in its own file. */
import type { Command } from 'commander';
import { deployCommand } from './deploy.js';
import { runtimeCommand } from './runtime.js';
import { workerCommand } from './worker.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { dlqCommand } from './dlq.js';
import { backfillCommand } from './backfill.js';
import { verifyCommand } from './verify.js';
import { recaptureCommand } from './recapture.js';
import { reshardCommand } from './reshard.js';

export const commands: Command[] = [startCommand, runtimeCommand, deployCommand, workerCommand, statusCommand, dlqCommand, backfillCommand, verifyCommand, reshardCommand, recaptureCommand];
