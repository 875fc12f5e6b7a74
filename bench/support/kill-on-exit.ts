/**
 * A child process of a test or benchmark dies with it. Without this, a test process that ends while a hook is
 * still waiting (an afterAll that timed out on a wedged runtime) leaves its servers running, taking the CPU of
 * every later run on the machine.
 */
import type { ChildProcess } from 'node:child_process';

export function killOnExit(child: ChildProcess): void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}
