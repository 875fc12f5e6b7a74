/**
 * Resolves on the first SIGINT or SIGTERM: long-running commands (worker, start) wait on it, then close
 * cleanly and return, so main() ends the process with exit code 0.
 */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A second Ctrl-C while closing should not kill the process half-way: ignore it until close ends.
      process.on('SIGINT', () => undefined);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
