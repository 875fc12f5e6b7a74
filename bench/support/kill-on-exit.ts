/**
 * A child process of a test or benchmark dies with it. Without this, a test process that ends while a hook is
 * still waiting (an afterAll that timed out on a wedged runtime) leaves its servers running, taking the CPU of
 * every later run on the machine. One 'exit' listener for them all: a file with more than ten live children
 * would otherwise get Node's MaxListenersExceededWarning.
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

export function killOnExit(child: ChildProcess): void {
  if (children.size === 0) process.once('exit', killAll);
  children.add(child);
  child.once('exit', () => {
    children.delete(child);
    if (children.size === 0) process.off('exit', killAll);
  });
}

function killAll(): void {
  for (const child of children) child.kill('SIGKILL');
}
