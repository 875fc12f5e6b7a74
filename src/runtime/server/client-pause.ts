/**
 * CLIENT PAUSE as the runtime sees it pass: while the server is paused, it holds every connection's `PUBLISH`
 * (WRITE pauses hold may-replicate commands too), so a marker pipelined behind a command that the pause lets
 * through (a read-only EXEC, a `no-writes` script) would hold that connection until the pause ends. While a pause
 * sent through the runtime lasts, events are fenced without a PUBLISH (KeyspaceSubscriber.fence). A pause sent to
 * the server some other way is not seen: markers then wait for it to end, as before.
 */

/** `CLIENT PAUSE <ms> [WRITE|ALL]` or `CLIENT UNPAUSE`; other CLIENT subcommands are not this module's. */
export function isPauseCommand(name: string, args: readonly Buffer[]): boolean {
  if (name !== 'client' || args.length < 2) return false;
  const sub = args[1]!.toString('latin1').toLowerCase();
  return (sub === 'pause' && args.length >= 3 && args.length <= 4) || (sub === 'unpause' && args.length === 2);
}

export class ClientPause {
  /** performance.now() at which the longest pause seen ends; 0 when none. */
  #until = 0;

  /** The server accepted `args` (a command isPauseCommand took). */
  note(args: readonly Buffer[]): void {
    if (args[1]!.toString('latin1').toLowerCase() === 'unpause') {
      this.#until = 0;
      return;
    }
    // Noted ahead of an EXEC that may refuse it (client-connection.ts): a timeout that is not a number is none.
    const ms = Number(args[2]!.toString('latin1'));
    if (!Number.isFinite(ms)) return;
    // A second pause never shortens the first (pauseClients in networking.c keeps the later end). Timed from the
    // reply, after the server started its clock: the runtime's end is never the earlier one.
    this.#until = Math.max(this.#until, performance.now() + ms);
  }

  get active(): boolean {
    return this.#until !== 0 && performance.now() < this.#until;
  }
}
